import ArcQueue

QueueCommand.main()
