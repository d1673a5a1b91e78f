import ArcCore

PlanCommand.main()
