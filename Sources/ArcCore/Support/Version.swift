/// arc's version: `--version`, the User-Agent of every request, OTLP's scope version.
public enum ArcVersion {
    public static let current = "0.1.0"
}
