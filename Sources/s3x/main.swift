import ArcCore

S3xCommand.main()
