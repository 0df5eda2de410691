"""The load-tester kit: `flask loadtest prepare` and `flask loadtest verify`
(docs/load-testing.md); the tool scripts are in loadtest/."""
