"""The Textual app: screens, bindings, the polling scheduler, config loading and the command line."""
