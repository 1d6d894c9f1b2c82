//! Harness shared by the scenario tests.
