import ArcWorkflow

WorkflowCommand.main()
