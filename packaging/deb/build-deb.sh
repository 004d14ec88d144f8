#!/usr/bin/env bash
# Builds watchfolder_<version>_amd64.deb the Debian way (debhelper) from the release binary.
#
#   packaging/deb/build-deb.sh            # `make deb` runs this after `swift build -c release --static-swift-stdlib`
#
# Environment (all optional):
#   WATCHFOLDER_DEB_BINARY   the binary to package (default .build/release/watchfolder)
#   WATCHFOLDER_DEB_VERSION  the package version (default: WatchFolderVersion.string in Version.swift)
#   WATCHFOLDER_DEB_OUT      the folder the .deb is written to (default: the repository root)
# Prints the path of the .deb on its last line.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here="$root/packaging/deb"
version_file="$root/Sources/WatchFolder/Version.swift"
source_version=$(sed -n 's/^ *public static let string = "\([^"]*\)".*/\1/p' "$version_file")
[ -n "$source_version" ] || { echo "build-deb: no version in $version_file" >&2; exit 1; }
version=${WATCHFOLDER_DEB_VERSION:-$source_version}
binary=${WATCHFOLDER_DEB_BINARY:-$root/.build/release/watchfolder}
out=${WATCHFOLDER_DEB_OUT:-$root}

[ -x "$binary" ] || { echo "build-deb: $binary is missing: run 'swift build -c release --static-swift-stdlib'" >&2; exit 1; }
if ldd "$binary" | grep -q 'libswiftCore\|libFoundation'; then
    echo "build-deb: $binary links the Swift runtime dynamically; build it with --static-swift-stdlib" >&2
    exit 1
fi
built_version=$("$binary" --version)
if [ "$built_version" != "$source_version" ]; then
    echo "build-deb: $binary reports version $built_version but $version_file says $source_version: rebuild it" >&2
    exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/watchfolder-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
tree="$work/watchfolder-$version"
mkdir -p "$tree"
cp -r "$here/debian" "$tree/debian"
install -m 0755 "$binary" "$tree/watchfolder"
# SwiftPM links with RUNPATH=$ORIGIN; the installed binary needs only the system's shared libraries.
if chrpath -l "$tree/watchfolder" | grep -q 'PATH='; then chrpath -d "$tree/watchfolder" >/dev/null; fi
install -m 0644 "$root/config.example.toml" "$tree/config.toml"
install -m 0644 "$root/config.example.toml" "$tree/config.example.toml"
install -m 0644 "$here/60-watchfolder.conf" "$tree/60-watchfolder.conf"
install -m 0644 "$root/README.md" "$tree/README.md"
install -m 0644 "$root/docs/deb.md" "$tree/deb.md"

# debian/changelog is written by hand (what changed, what an upgrade asks of the administrator); its newest entry
# is this version. An overridden version (the upgrade test's rebuild) gets an entry of its own on top, dated by
# the last commit for reproducible builds.
changelog_version=$(sed -n '1s/^watchfolder (\([^)]*\)).*/\1/p' "$here/debian/changelog")
if [ "$changelog_version" != "$source_version" ]; then
    echo "build-deb: packaging/deb/debian/changelog starts with $changelog_version but $version_file says $source_version: add an entry" >&2
    exit 1
fi
epoch=${SOURCE_DATE_EPOCH:-$(git -C "$root" log -1 --format=%ct 2>/dev/null || date +%s)}
export SOURCE_DATE_EPOCH=$epoch
if [ "$version" != "$source_version" ]; then
    {
        printf 'watchfolder (%s) unstable; urgency=medium\n\n' "$version"
        printf '  * Rebuild of %s as %s.\n\n' "$source_version" "$version"
        printf ' -- watchfolder maintainers <watchfolder@lists.example.org>  %s\n\n' "$(date -u -R -d "@$epoch")"
        cat "$here/debian/changelog"
    } > "$tree/debian/changelog"
fi

# The man page, from the CLI's own help: the root command, then every subcommand.
{
    echo "[COMMANDS]"
    for sub in $("$binary" --help | sed -n '/^SUBCOMMANDS:/,/^$/p' | sed -n 's/^  \([a-z][a-z0-9-]*\).*/\1/p'); do
        echo ".SS \"watchfolder $sub\""
        echo ".nf"
        "$binary" help "$sub" | sed -e 's/\\/\\e/g' -e 's/^\([.'"'"']\)/\\\&\1/'
        echo ".fi"
    done
    echo "[FILES]"
    echo ".TP"
    echo ".I /etc/watchfolder/config.toml"
    echo "The configuration (every key is described in /usr/share/doc/watchfolder/examples/config.example.toml)."
    echo ".TP"
    echo ".I /srv/watchfolder/{inbox,outbox,archive,failed}"
    echo "The media folders. The inbox is writable by members of group watchfolder-upload (and nothing else is)."
    echo ".TP"
    echo ".I /var/lib/watchfolder"
    echo "The job database and work folders, readable by the service only."
    echo "[SEE ALSO]"
    echo "systemctl(1), /usr/share/doc/watchfolder/deb.md.gz (SFTP and Samba upload recipes)"
} > "$work/commands.h2m"
help2man --no-info --section=1 --source="watchfolder $version" --manual="User Commands" \
    --name="turn videos dropped into a folder into HLS packages" \
    --version-string="$version" --include="$work/commands.h2m" \
    --output="$tree/watchfolder.1" "$binary"

(cd "$tree" && fakeroot debian/rules binary) >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 1; }
deb="watchfolder_${version}_amd64.deb"
mkdir -p "$out"
mv "$work/$deb" "$out/$deb"
echo "$out/$deb"
