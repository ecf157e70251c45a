"""One module per `wachat` subcommand: HELP, add_arguments(parser), run(args) -> int."""
