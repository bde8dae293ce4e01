Feature: Capabilities
  Every message is authorized by a capability token chain rooted in a DID the
  receiving node trusts. Delegation only narrows; revocation takes effect at once.

  Background:
    Given a testnet of 3 nodes

  Scenario: A node has a node key and a user key
    When I run "dms key list" on node 1
    Then the exit code is 0
    And the output contains "dms"
    And the output contains "user"

  @pending
  Scenario: A granted capability lets a peer call a behavior
    Given node 0 trusts the organization root
    When the organization grants "/dms/deployment" to node 1
    And node 1 asks node 0 for a bid
    Then node 0 answers with a bid

  @pending
  Scenario: A call without a capability is answered with an error, not a timeout
    When node 2 asks node 0 for a bid without a token
    Then the answer is an error with code "unauthorized"
    And it arrives within 2 seconds

  @pending
  Scenario: Delegation can only narrow abilities
    Given node 1 holds "/dms/deployment" from the organization
    When node 1 delegates "/dms" to node 2
    Then the delegation is refused with a hint about narrowing

  @pending
  Scenario: A revoked capability stops working at once
    Given node 1 holds "/dms/deployment" from the organization
    When the organization revokes that capability
    And node 1 asks node 0 for a bid
    Then the answer is an error with code "unauthorized"
