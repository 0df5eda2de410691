"""`python -m ticketing.loadtest prepare ...`: prepare without the app's settings (no
DATABASE_URL, no secrets), e.g. on a load tester's laptop. `verify` reads the database, so
it runs as `flask --app wsgi loadtest verify` with the deployment's DATABASE_URL."""

import click

from ticketing.loadtest.commands import prepare_command


@click.group()
def main():
    """The load-tester kit (docs/load-testing.md)."""


main.add_command(prepare_command)

if __name__ == "__main__":
    main()
