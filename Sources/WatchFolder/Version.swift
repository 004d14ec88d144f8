/// The one place the version is written; `watchfolder --version` and the .deb read it.
public enum WatchFolderVersion {
    public static let string = "0.2.0"
}
