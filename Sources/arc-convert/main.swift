import ArcSilver

ConvertCommand.main()
