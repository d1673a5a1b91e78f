import ArcSilver

CheckCommand.main()
