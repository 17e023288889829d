"""Day passes: a product staff configure (price, machines or machine classes, locations) and the
one-day passes bought from it, online or at the desk. docs/billing.md ("Day passes")."""
