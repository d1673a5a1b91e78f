import ArcCore

DiscoverCommand.main()
