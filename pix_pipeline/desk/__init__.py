"""Daniel's review desk: a small server-rendered web app next to the Dagster UI."""
