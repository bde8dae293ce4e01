Feature: Executors
  A node advertises only the executors that really work on its machine, and runs
  workloads on them.

  Background:
    Given a testnet of 3 nodes

  @pending
  Scenario: A node lists the executors it can run
    When I run "dms executors list --json" on node 1
    Then the exit code is 0
    And the output lists "noop"

  @pending
  Scenario: A WebAssembly task runs and returns its output
    Given node 1 is onboarded with the wasm executor
    When I deploy a WebAssembly task that prints "hello" from node 0
    Then the deployment reaches "Completed"
    And its logs contain "hello"

  @pending
  Scenario: A container task runs on the docker executor
    Given node 1 is onboarded with the docker executor
    When I deploy a busybox container that prints "hello" from node 0
    Then the deployment reaches "Completed"
    And its logs contain "hello"

  @pending
  Scenario: A microVM task runs on the qemu executor
    Given node 2 is onboarded with the microvm executor
    When I deploy a microVM task from node 0
    Then the deployment reaches "Completed"
