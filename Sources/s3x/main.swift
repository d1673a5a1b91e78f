import ArcS3x

S3xCommand.main()
