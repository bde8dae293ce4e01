Feature: Peers and status
  Every node of a network knows who it is, and finds the other nodes through its
  bootstrap peers.

  Background:
    Given a testnet of 3 nodes

  Scenario: A node reports its identity
    When I run "dms status --json" on node 1
    Then the exit code is 0
    And the output has a "did" starting with "did:key:z6Mk"

  Scenario: Every node has an identity of its own
    Then every node reports a different DID

  Scenario: Status without a running daemon says how to start one
    When I run "dms status" with an empty home
    Then the exit code is 2
    And the output contains "dms run"

  @pending
  Scenario: Nodes find each other through the bootstrap node
    When I run "dms peers list --json" on node 2
    Then the exit code is 0
    And the output lists the peer ids of node 0 and node 1

  @pending
  Scenario: A broadcast hello reaches every node
    When I run "dms hello --broadcast --json" on node 0
    Then the exit code is 0
    And every node answers the hello
    And every reported round trip is at least twice the configured latency
