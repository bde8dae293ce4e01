Feature: Deployments
  A service provider deploys an ensemble; the orchestrator collects bids, commits,
  and allocations run on the chosen providers.

  Background:
    Given a testnet of 3 nodes

  @pending
  Scenario: A task runs to completion on another node
    Given nodes 1 and 2 are onboarded with the noop executor
    When I deploy a one-shot task from node 0
    Then the deployment reaches "Completed"
    And its logs come back to node 0

  @pending
  Scenario: A service keeps running until it is stopped
    Given nodes 1 and 2 are onboarded with the noop executor
    When I deploy a service from node 0
    Then the deployment reaches "Running"
    When I stop the deployment
    Then no allocation is left on any node

  @pending
  Scenario: A deployment pinned to a peer runs there
    Given nodes 1 and 2 are onboarded with the noop executor
    When I deploy a task pinned to node 2 from node 0
    Then the allocation runs on node 2

  @pending
  Scenario: An ensemble of two allocations spreads over two nodes
    Given nodes 1 and 2 are onboarded with the noop executor
    When I deploy an ensemble of two allocations that must not share a node
    Then one allocation runs on node 1 and one on node 2

  @pending
  Scenario: Asking for more than any node offers fails with a reason
    Given nodes 1 and 2 are onboarded with the noop executor
    When I deploy a task that needs 4096 CPU cores from node 0
    Then the deployment reaches "Failed"
    And the reason says no provider had enough resources
