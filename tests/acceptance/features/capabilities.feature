Feature: Capabilities
  Every message is authorized by a capability token chain rooted in a DID the
  receiving node trusts. Nothing is allowed without one; delegation only narrows;
  revocation reaches every node.

  Scenario: A node has a node key and a user key
    Given a testnet of 3 nodes
    When I run "dms key list" on node 1
    Then the exit code is 0
    And the output contains "dms"
    And the output contains "user"

  Scenario: Members of the organization may call every node
    Given a testnet of 3 nodes
    When I run "dms actor cmd /dms/node/status --dest <peer id of node 2> --json" on node 0
    Then the exit code is 0
    And the output contains "<peer id of node 2>"

  Scenario: A call without a capability is refused at once, with the reason
    Given a testnet of 2 nodes that do not trust each other
    And every node is connected to node 0
    When I run "dms actor cmd /dms/node/status --dest <peer id of node 1> -t 20" on node 0
    Then the exit code is 1
    And the output contains "/dms/node/status"
    And the output contains "hint:"

  Scenario: A grant allows exactly what it names, until it is revoked
    Given a testnet of 2 nodes that do not trust each other
    And every node is connected to node 0
    When node 1 grants "/dms/node/status" to the person on node 0
    And I run "dms actor cmd /dms/node/status --dest <peer id of node 1>" on node 0
    Then the exit code is 0
    When I run "dms actor cmd /dms/node/resources/free --dest <peer id of node 1> -t 20" on node 0
    Then the exit code is 1
    And the output contains "/dms/node/resources/free"
    When node 1 revokes that grant
    Then within 20 seconds "dms actor cmd /dms/node/status --dest <peer id of node 1> -t 10" on node 0 fails with "revoked"

  Scenario: Delegation can only narrow abilities
    Given a testnet of 2 nodes that do not trust each other
    When node 1 grants "/dms/node/status" to the person on node 0
    And I run "dms cap delegate --to <did of node 1> --cap /dms" on node 0
    Then the exit code is 1
    And the output contains "hint:"
