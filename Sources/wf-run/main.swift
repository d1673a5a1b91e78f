import ArcCore

WorkflowCommand.main()
