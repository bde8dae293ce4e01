Feature: Peers and status
  Every node of a network knows who it is, finds the other nodes through its
  bootstrap peer, and reaches them all with a broadcast.

  Scenario: A node reports its identity
    Given a testnet of 3 nodes
    When I run "dms status --json" on node 1
    Then the exit code is 0
    And the output has a "did" starting with "did:key:z6Mk"

  Scenario: Every node has an identity of its own
    Given a testnet of 3 nodes
    Then every node reports a different DID

  Scenario: Status without a running daemon says how to start one
    When I run "dms status" with an empty home
    Then the exit code is 2
    And the output contains "dms run"

  Scenario: Nodes find each other through the bootstrap node
    Given a testnet of 3 nodes
    And every node is connected to node 0
    When I run "dms peers --json" on node 0
    Then the exit code is 0
    And the output lists the peer ids of node 1 and node 2

  Scenario: A broadcast hello reaches every node
    Given a testnet of 3 nodes
    And every node is connected to node 0
    When I run "dms hello --json --window 2" on node 0
    Then the exit code is 0
    And every other node answers the hello

  Scenario: Round trips reflect the configured latency
    Given a shaped testnet of 5 nodes with 30ms latency
    And every node is connected to node 0
    When I run "dms peers ping <peer id of node 0> -c 3 --json" on node 1
    Then the exit code is 0
    And every round trip is at least 60 ms

  Scenario: A broadcast hello reports round trips that reflect the configured latency
    Given a shaped testnet of 5 nodes with 30ms latency
    And every node is connected to node 0
    When I run "dms hello --json --window 2" on node 0
    Then the exit code is 0
    And every other node answers the hello
    And every hello answer took at least 60 ms

  Scenario: A node finds another node in the DHT and dials the address it found
    Given a testnet of 3 nodes
    And every node is connected to node 0
    When I run "dms peers dht --find <peer id of node 2> --json" on node 1
    Then the exit code is 0
    And the JSON output has "peer.peer_id" equal to "<peer id of node 2>"
    When node 1 dials node 2 at the address the DHT found
    Then the exit code is 0
    And node 1 lists node 2 among its peers
