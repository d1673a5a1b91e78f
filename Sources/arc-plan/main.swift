import ArcCollect

PlanCommand.main()
