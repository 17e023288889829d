"""The ground floor every app builds on: domain errors, the clock, form tokens, audit history,
the form-action helper, formatting, and the port through which lower apps reach the gates."""
