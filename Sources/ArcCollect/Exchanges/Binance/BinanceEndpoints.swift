import ArcCore

/// Where Binance's archive answers: the S3 listing endpoint (ListObjects v1, path style)
/// and the download host.
public struct BinanceEndpoints: BucketEndpoints {
    public static let defaultListURL = "https://s3-ap-northeast-1.amazonaws.com/data.binance.vision"
    public static let defaultDownloadURL = "https://data.binance.vision"

    public var listURL: String
    public var downloadURL: String

    public init(listURL: String = defaultListURL, downloadURL: String = defaultDownloadURL) {
        self.listURL = BinanceEndpoints.trimSlash(listURL)
        self.downloadURL = BinanceEndpoints.trimSlash(downloadURL)
    }
}
