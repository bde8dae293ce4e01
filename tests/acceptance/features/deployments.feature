Feature: Deployments
  A service provider deploys an ensemble; the orchestrator collects bids, commits,
  and allocations run on the chosen providers; their output comes back.

  Scenario: A task runs to completion on another node
    Given a testnet of 3 nodes
    And node 1 is onboarded
    And a WebAssembly module that prints "hello from node 1"
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
        n1: {allocations: [hello], peer: <peer id of node 1>}
      """
    Then the exit code is 0
    And the JSON output has "status" equal to "Completed"
    And the JSON output has "logs.hello.stdout" containing "hello from node 1"

  Scenario: A deployment pinned to a peer runs there
    Given a testnet of 3 nodes
    And node 1 is onboarded
    And node 2 is onboarded
    And a WebAssembly module that prints "pinned"
    When I deploy this ensemble from node 0:
      """
      version: V1
      allocations:
        pinned:
          type: task
          executor: wasm
          resources: {cpu: {cores: 0.5}, ram: {size: 64MiB}, disk: {size: 64MiB}}
          execution: {type: wasm, module: <wasm module>}
      nodes:
        n1: {allocations: [pinned], peer: <peer id of node 2>}
      """
    Then the exit code is 0
    And the JSON output has "nodes.n1" equal to "<peer id of node 2>"

  Scenario: An ensemble of two allocations spreads over two nodes
    Given a testnet of 3 nodes
    And node 1 is onboarded
    And node 2 is onboarded
    And a WebAssembly module that prints "one of two"
    When I deploy this ensemble from node 0:
      """
      version: V1
      allocations:
        a:
          type: task
          executor: wasm
          resources: {cpu: {cores: 0.75}, ram: {size: 64MiB}, disk: {size: 64MiB}}
          execution: {type: wasm, module: <wasm module>}
        b:
          type: task
          executor: wasm
          resources: {cpu: {cores: 0.75}, ram: {size: 64MiB}, disk: {size: 64MiB}}
          execution: {type: wasm, module: <wasm module>}
      nodes:
        n1: {allocations: [a]}
        n2: {allocations: [b]}
      """
    Then the exit code is 0
    And the JSON output has "status" equal to "Completed"
    And the allocations ran on 2 different peers

  Scenario: An onboarded node runs what it deploys itself
    Given a testnet of 3 nodes
    And node 0 is onboarded
    And a WebAssembly module that prints "ran on myself"
    When I deploy this ensemble from node 0:
      """
      version: V1
      allocations:
        me:
          type: task
          executor: wasm
          resources: {cpu: {cores: 0.25}, ram: {size: 64MiB}, disk: {size: 16MiB}}
          execution: {type: wasm, module: <wasm module>}
      nodes:
        n1: {allocations: [me], peer: <peer id of node 0>}
      """
    Then the exit code is 0
    And the JSON output has "nodes.n1" equal to "<peer id of node 0>"
    And the JSON output has "logs.me.stdout" containing "ran on myself"
    When I run "offboard" on node 0
    Then the exit code is 0

  Scenario: Asking for more than any node offers fails with a reason
    Given a testnet of 3 nodes
    And node 1 is onboarded
    And a WebAssembly module that prints "never"
    When I deploy this ensemble from node 0:
      """
      version: V1
      allocations:
        big:
          type: task
          executor: wasm
          resources: {cpu: {cores: 4096}, ram: {size: 64MiB}, disk: {size: 64MiB}}
          execution: {type: wasm, module: <wasm module>}
      nodes:
        n1: {allocations: [big]}
      """
    Then the exit code is 1
    And the JSON output has "status" equal to "Failed"
    And the output contains "needs 4096 cores"

  Scenario: A service keeps running until it is stopped
    Given a testnet of 3 nodes
    And node 1 is onboarded with the docker executor
    When I deploy this ensemble from node 0:
      """
      version: V1
      allocations:
        web:
          type: service
          executor: docker
          resources: {cpu: {cores: 0.5}, ram: {size: 64MiB}, disk: {size: 64MiB}}
          execution: {type: docker, image: <busybox image>, cmd: [sh, -c, "trap 'exit 0' TERM; echo up; while :; do sleep 1; done"]}
      nodes:
        n1: {allocations: [web], peer: <peer id of node 1>}
      """
    Then the exit code is 0
    And the deployment reaches "Running"
    And the JSON output has "allocations.web.status" equal to "running"
    And node 1 holds resources for it
    When I stop the deployment
    Then the exit code is 0
    And the deployment reaches "Stopped"
    And no allocation is left on any node

  Scenario: A service outlives a crash of its provider
    Given a testnet of 3 nodes
    And node 1 is onboarded with the docker executor
    When I deploy this ensemble from node 0:
      """
      version: V1
      allocations:
        web:
          type: service
          executor: docker
          resources: {cpu: {cores: 0.5}, ram: {size: 64MiB}, disk: {size: 64MiB}}
          execution: {type: docker, image: <busybox image>, cmd: [sh, -c, "trap 'exit 0' TERM; echo up; while :; do sleep 1; done"]}
      nodes:
        n1: {allocations: [web], peer: <peer id of node 1>}
      """
    Then the exit code is 0
    And the deployment reaches "Running"
    When node 1 crashes and comes back
    Then the deployment's events include "allocation web running (re-attached after the provider restarted)"
    And the deployment reaches "Running"
    And its logs contain "up"
    When I stop the deployment
    Then the exit code is 0
    And the deployment reaches "Stopped"
    And no allocation is left on any node
