Feature: Onboarding and resources
  A compute provider onboards a share of its machine; only onboarded resources are
  offered, and never more than the machine has.

  Background:
    Given a testnet of 3 nodes

  @pending
  Scenario: A node reports the machine's resources
    When I run "dms resources show --json" on node 1
    Then the exit code is 0
    And the output lists CPU cores, memory and disk

  @pending
  Scenario: Onboarding a share of the machine
    When I run "dms onboard --cpu 1 --ram 512MiB --disk 1GiB" on node 1
    Then the exit code is 0
    And node 1 reports 1 CPU core and 512 MiB onboarded

  @pending
  Scenario: Onboarding more than the machine has is refused
    When I run "dms onboard --cpu 4096" on node 1
    Then the exit code is 1
    And the output contains "hint"

  @pending
  Scenario: Offboarding withdraws the offer
    Given node 1 is onboarded
    When I run "dms offboard" on node 1
    Then node 1 no longer answers bid requests
