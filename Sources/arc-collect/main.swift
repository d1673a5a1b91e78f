import ArcCollect

CollectCommand.main()
