Feature: Onboarding and resources
  A compute provider onboards a share of its machine; only onboarded resources are
  offered, and never more than the machine has.

  Scenario: A node describes its machine
    Given a testnet of 3 nodes
    When I run "dms hardware spec --json" on node 1
    Then the exit code is 0
    And the JSON output has "cpu.cores"
    And the JSON output has "ram.size"

  Scenario: Onboarding a share of the machine
    Given a testnet of 3 nodes
    When I run "dms onboard --cpu 1 --ram 512MiB --disk 1GiB --json" on node 2
    Then the exit code is 0
    When I run "dms resources onboarded --json" on node 2
    Then the JSON output has "cpu.cores" equal to 1.0
    And the JSON output has "ram.size" equal to 536870912
    When I run "dms status --json" on node 2
    Then the JSON output has "onboarded" equal to true

  Scenario: Onboarding more than the machine has is refused
    Given a testnet of 3 nodes
    When I run "dms onboard --cpu 4096 --ram 1GiB --disk 1GiB" on node 1
    Then the exit code is 1
    And the output contains "4096 cores"
    And the output contains "hint:"

  Scenario: Offboarding withdraws the offer
    Given a testnet of 3 nodes
    And node 2 is onboarded
    When I run "dms offboard --json" on node 2
    Then the exit code is 0
    When I run "dms status --json" on node 2
    Then the JSON output has "onboarded" equal to false
