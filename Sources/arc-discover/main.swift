import ArcCollect

DiscoverCommand.main()
