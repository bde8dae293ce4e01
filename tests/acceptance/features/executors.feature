Feature: Executors
  A node advertises only the executors that really work on its machine, and runs
  workloads on them.

  Scenario: A node advertises the executors that work here
    Given a testnet of 3 nodes
    When I run "dms status --json" on node 1
    Then the exit code is 0
    And the JSON output lists "wasm" under "executors"

  Scenario: A WebAssembly task runs and returns its output
    Given a testnet of 3 nodes
    And node 1 is onboarded
    And a WebAssembly module that prints "hello"
    When I deploy this ensemble from node 0:
      """
      version: V1
      allocations:
        hello:
          type: task
          executor: wasm
          resources: {cpu: {cores: 0.5}, ram: {size: 64MiB}, disk: {size: 64MiB}}
          execution: {type: wasm, module: <wasm module>}
      nodes:
        n1: {allocations: [hello]}
      """
    Then the exit code is 0
    And the JSON output has "allocations.hello.exit_code" equal to 0
    And the JSON output has "logs.hello.stdout" containing "hello"

  Scenario: A container task runs on the docker executor
    Given a testnet of 3 nodes
    And node 1 is onboarded with the docker executor
    When I deploy this ensemble from node 0:
      """
      version: V1
      allocations:
        hello:
          type: task
          executor: docker
          resources: {cpu: {cores: 0.5}, ram: {size: 64MiB}, disk: {size: 64MiB}}
          execution: {type: docker, image: <busybox image>, cmd: [sh, -c, echo hello from a container]}
      nodes:
        n1: {allocations: [hello], peer: <peer id of node 1>}
      """
    Then the exit code is 0
    And the JSON output has "allocations.hello.exit_code" equal to 0
    And the deployment reaches "Completed"
    And its logs contain "hello from a container"

  Scenario: A microVM task runs on the microvm executor (QEMU)
    Given a testnet of 3 nodes
    And node 2 is onboarded
    When I deploy this ensemble from node 0:
      """
      version: V1
      allocations:
        vm:
          type: task
          executor: microvm
          resources: {cpu: {cores: 1}, ram: {size: 256MiB}, disk: {size: 64MiB}}
          execution: {type: microvm, kernel_image: <host kernel>, cmd: [sh, -c, echo hello from a microVM]}
      nodes:
        n1: {allocations: [vm], peer: <peer id of node 2>}
      """
    Then the exit code is 0
    And the JSON output has "allocations.vm.exit_code" equal to 0
    And the deployment reaches "Completed"
    And its logs contain "hello from a microVM"
