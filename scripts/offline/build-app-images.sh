#!/usr/bin/env bash
# Builds offline look-alike images of the productionizing lab's apps. On this host they are tagged
# only under our own name, kube-lab-grader/lookalike/<upstream name>, so `docker run
# sixeyed/whoami:21.04` here never runs a look-alike; the local registry serves them to the kind
# node alone under the upstream names (label io.kube-lab-grader.original), so the lab's specs run
# unchanged where no registry can be reached:
#   sixeyed/whoami:21.04        FROM-scratch style: /app/whoami and a CA bundle, no shell
#   kiamol/ch05-pi:latest       Alpine-like: BusyBox, /etc/passwd with nobody, `dotnet` running Pi.Web
#   sixeyed/configurable:21.04  Alpine-like: BusyBox, `dotnet` running configurable.web
# The apps are Go programs in fixtures/apps (see its README.md); every image carries the label
# io.kube-lab-grader.lookalike=true. Nothing is pulled: each root filesystem is assembled in a
# temporary directory and loaded with `docker import`.
#
# Usage: build-app-images.sh [--force]
# Skips the build when every image already carries the current io.kube-lab-grader.source-hash.
# Prints the names of the images it built, one a line, on stdout.
source "$(dirname "$0")/lib.sh"

APPS_DIR="$REPO_ROOT/fixtures/apps"
BUSYBOX="${BUSYBOX:-/bin/busybox}"
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
ZONEINFO=/usr/share/zoneinfo
WHOAMI_IMAGE=sixeyed/whoami:21.04
PI_IMAGE=kiamol/ch05-pi:latest
CONFIGURABLE_IMAGE=sixeyed/configurable:21.04
LOCAL_PREFIX=kube-lab-grader/lookalike/
IMAGES=("$LOCAL_PREFIX$WHOAMI_IMAGE" "$LOCAL_PREFIX$PI_IMAGE" "$LOCAL_PREFIX$CONFIGURABLE_IMAGE")
LABEL_PREFIX=io.kube-lab-grader

force=false
case "${1:-}" in
  --force) force=true ;;
  "") ;;
  *) die "usage: $0 [--force]" ;;
esac

command -v go >/dev/null || die "go is not installed"
command -v docker >/dev/null || die "docker is not installed"
docker info >/dev/null 2>&1 || die "docker is not running (scripts/host/ensure-docker.sh starts it)"
[[ -x "$BUSYBOX" ]] || die "$BUSYBOX not found: install Debian's busybox-static package"
"$BUSYBOX" --list-full >/dev/null 2>&1 || die "$BUSYBOX has no --list-full: a statically linked BusyBox is needed"
[[ -f "$CA_BUNDLE" ]] || die "$CA_BUNDLE not found: install the ca-certificates package"

busybox_version="$(dpkg-query -W -f '${Version}' busybox-static 2>/dev/null || "$BUSYBOX" 2>&1 | head -n 1)"
tzdata_version="$(dpkg-query -W -f '${Version}' tzdata 2>/dev/null || echo none)"

# Everything an image is made of (READMEs aside): the Go sources, this script, the BusyBox binary, the Go
# toolchain, the CA bundle and the time zone data.
source_hash() {
  {
    (cd "$APPS_DIR" && find . -type f ! -path '*/.*' ! -name '*.md' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
    (cd "$REPO_ROOT" && sha256sum scripts/offline/build-app-images.sh)
    echo "busybox $busybox_version $(sha256sum <"$BUSYBOX")"
    echo "tzdata $tzdata_version"
    echo "ca $(sha256sum <"$CA_BUNDLE")"
    go version
  } | sha256sum | cut -d' ' -f1
}

image_hash() {
  docker image inspect --format "{{ index .Config.Labels \"$LABEL_PREFIX.source-hash\" }}" "$1" 2>/dev/null || true
}

hash="$(source_hash)"
if ! $force; then
  up_to_date=true
  for image in "${IMAGES[@]}"; do
    [[ "$(image_hash "$image")" == "$hash" ]] || { up_to_date=false; break; }
  done
  if $up_to_date; then
    log "look-alike app images up to date (source hash ${hash:0:12}): ${IMAGES[*]}"
    exit 0
  fi
fi

log "testing fixtures/apps"
(cd "$APPS_DIR" && go vet ./... && go test ./...) >&2 || die "fixtures/apps tests failed"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/kube-lab-grader-apps.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

log "building static binaries"
for pkg in whoami dotnet-pi dotnet-configurable; do
  (cd "$APPS_DIR" && CGO_ENABLED=0 GOOS=linux GOFLAGS=-buildvcs=false \
    go build -trimpath -ldflags "-s -w" -o "$WORK/bin/$pkg" "./$pkg") || die "go build ./$pkg failed"
done

# add_ca_and_zoneinfo ROOT: the CA bundle and time zone data (without the right/ and posix/
# duplicates) that a Go image built FROM scratch usually copies in.
add_ca_and_zoneinfo() {
  local root="$1"
  install -D -m 0644 "$CA_BUNDLE" "$root/etc/ssl/certs/ca-certificates.crt"
  if [[ -d "$ZONEINFO" ]]; then
    mkdir -p "$root/usr/share/zoneinfo"
    tar -C "$ZONEINFO" --exclude=./right --exclude=./posix -cf - . | tar -C "$root/usr/share/zoneinfo" -xf -
  fi
}

# make_alpine_like ROOT: a small Alpine-like userland: BusyBox with its applets linked where
# Alpine puts them, users and groups with root and nobody, /tmp, /run, /app owned by root.
make_alpine_like() {
  local root="$1" applet
  mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,etc,root,home,tmp,run,var/tmp,var/log,app,proc,sys,dev}
  chmod 1777 "$root/tmp" "$root/var/tmp"
  chmod 0700 "$root/root"
  ln -s ../run "$root/var/run"
  install -m 0755 "$BUSYBOX" "$root/bin/busybox"
  while read -r applet; do
    [[ -z "$applet" || "$applet" == bin/busybox ]] && continue
    [[ -e "$root/$applet" || -L "$root/$applet" ]] && continue
    mkdir -p "$root/$(dirname "$applet")"
    ln -s /bin/busybox "$root/$applet"
  done < <("$BUSYBOX" --list-full)
  # Debian's BusyBox build lacks printenv and nohup, which Alpine's has: small shims stand in.
  if [[ ! -e "$root/usr/bin/printenv" ]]; then
    cat >"$root/usr/bin/printenv" <<'SHIM'
#!/bin/sh
# printenv [NAME]... (stands in for the BusyBox applet; exit status 1 if a NAME is unset)
[ "$#" -eq 0 ] && exec env
exec awk 'BEGIN { rc = 0; for (i = 1; i < ARGC; i++) if (ARGV[i] in ENVIRON) print ENVIRON[ARGV[i]]; else rc = 1; exit rc }' "$@"
SHIM
    chmod 0755 "$root/usr/bin/printenv"
  fi
  if [[ ! -e "$root/usr/bin/nohup" ]]; then
    printf '#!/bin/sh\n# nohup COMMAND [ARG]... (stands in for the BusyBox applet)\ntrap "" HUP\nexec "$@"\n' >"$root/usr/bin/nohup"
    chmod 0755 "$root/usr/bin/nohup"
  fi
  for applet in bin/sh bin/ash usr/bin/whoami bin/cat bin/chown usr/bin/id bin/ls usr/bin/printenv usr/bin/env bin/echo bin/sleep bin/ps; do
    [[ -e "$root/$applet" ]] || die "BusyBox at $BUSYBOX lacks the applet $applet"
  done
  cat >"$root/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/ash
bin:x:1:1:bin:/bin:/sbin/nologin
daemon:x:2:2:daemon:/sbin:/sbin/nologin
adm:x:3:4:adm:/var/adm:/sbin/nologin
lp:x:4:7:lp:/var/spool/lpd:/sbin/nologin
sync:x:5:0:sync:/sbin:/bin/sync
shutdown:x:6:0:shutdown:/sbin:/sbin/shutdown
halt:x:7:0:halt:/sbin:/sbin/halt
mail:x:8:12:mail:/var/mail:/sbin/nologin
news:x:9:13:news:/usr/lib/news:/sbin/nologin
operator:x:11:0:operator:/root:/sbin/nologin
ftp:x:21:21::/var/lib/ftp:/sbin/nologin
guest:x:405:100:guest:/dev/null:/sbin/nologin
nobody:x:65534:65534:nobody:/:/sbin/nologin
PASSWD
  cat >"$root/etc/group" <<'GROUP'
root:x:0:root
bin:x:1:root,bin,daemon
daemon:x:2:root,bin,daemon
sys:x:3:root,bin,adm
adm:x:4:root,adm,daemon
tty:x:5:
disk:x:6:root,adm
lp:x:7:lp
wheel:x:10:root
mail:x:12:mail
news:x:13:news
floppy:x:19:
ftp:x:21:
users:x:100:games
nogroup:x:65533:
nobody:x:65534:
GROUP
  printf 'root:*::0:::::\nnobody:!::0:::::\n' >"$root/etc/shadow"
  chmod 0640 "$root/etc/shadow"
  cat >"$root/etc/os-release" <<'OSREL'
NAME="kube-lab-grader look-alike"
ID=kube-lab-grader-lookalike
PRETTY_NAME="Alpine-like BusyBox userland of a look-alike image built offline by kube-lab-grader"
OSREL
  printf '/bin/sh\n/bin/ash\n' >"$root/etc/shells"
  add_ca_and_zoneinfo "$root"
}

# placeholder ROOT/PATH DLL ORIGINAL: the managed assembly the original's `dotnet` loads;
# here the look-alike `dotnet` only checks it exists.
placeholder() {
  printf 'Placeholder for %s of %s in a look-alike image built offline by kube-lab-grader.\nThe app is implemented by /usr/bin/dotnet (fixtures/apps in kube-lab-grader).\n' "$2" "$3" >"$1"
  chmod 0644 "$1"
}

# import_image ROOT ORIGINAL DESCRIPTION CHANGES...: load ROOT as image kube-lab-grader/lookalike/
# ORIGINAL, all files owned by root, and drop the image that name pointed to before if it was an
# earlier look-alike build.
import_image() {
  local root="$1" original="$2" description="$3" name="$LOCAL_PREFIX$2" previous
  shift 3
  previous="$(docker image inspect --format '{{.Id}}' "$name" 2>/dev/null || true)"
  tar --numeric-owner --owner=0 --group=0 --sort=name -C "$root" -cf - . | docker import \
    "$@" \
    --change 'EXPOSE 80' \
    --change "LABEL $LABEL_PREFIX.lookalike=true" \
    --change "LABEL $LABEL_PREFIX.source-hash=$hash" \
    --change "LABEL $LABEL_PREFIX.original=$original" \
    --change "LABEL org.opencontainers.image.description=\"$description\"" \
    - "$name" >/dev/null || die "docker import of $name failed"
  if [[ -n "$previous" && "$previous" != "$(docker image inspect --format '{{.Id}}' "$name")" ]]; then
    if [[ "$(docker image inspect --format "{{ index .Config.Labels \"$LABEL_PREFIX.lookalike\" }}" "$previous" 2>/dev/null)" == true ]] &&
      [[ "$(docker image inspect --format '{{len .RepoTags}}' "$previous" 2>/dev/null)" == 0 ]]; then
      docker image rm "$previous" >/dev/null 2>&1 || true
    fi
  fi
  log "built $name ($(docker image inspect --format '{{.Size}}' "$name") bytes)"
  echo "$name"
}

dotnet_env=(
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
  --change 'ENV ASPNETCORE_URLS=http://+:80'
  --change 'ENV DOTNET_RUNNING_IN_CONTAINER=true'
)

# sixeyed/whoami:21.04
root="$WORK/whoami"
install -D -m 0755 "$WORK/bin/whoami" "$root/app/whoami"
add_ca_and_zoneinfo "$root"
import_image "$root" "$WHOAMI_IMAGE" \
  "look-alike of $WHOAMI_IMAGE built offline by kube-lab-grader for grading without a registry" \
  --change 'ENTRYPOINT ["/app/whoami"]'

# kiamol/ch05-pi:latest
root="$WORK/pi"
make_alpine_like "$root"
install -m 0755 "$WORK/bin/dotnet-pi" "$root/usr/bin/dotnet"
placeholder "$root/app/Pi.Web.dll" Pi.Web.dll "$PI_IMAGE"
cat >"$root/app/appsettings.json" <<'JSON'
{
  "Logging": {
    "LogLevel": {
      "Default": "Information",
      "Microsoft": "Warning",
      "Microsoft.Hosting.Lifetime": "Information"
    }
  },
  "AllowedHosts": "*",
  "Computation": {
    "Metrics": {
      "Enabled": false
    }
  }
}
JSON
import_image "$root" "$PI_IMAGE" \
  "look-alike of $PI_IMAGE built offline by kube-lab-grader for grading without a registry" \
  "${dotnet_env[@]}" \
  --change 'WORKDIR /app' \
  --change 'ENTRYPOINT ["dotnet", "Pi.Web.dll"]' \
  --change 'CMD ["-m", "console", "-dp", "6"]'

# sixeyed/configurable:21.04
root="$WORK/configurable"
make_alpine_like "$root"
install -m 0755 "$WORK/bin/dotnet-configurable" "$root/usr/bin/dotnet"
placeholder "$root/app/configurable.web.dll" configurable.web.dll "$CONFIGURABLE_IMAGE"
cat >"$root/app/appsettings.json" <<'JSON'
{
  "Logging": {
    "LogLevel": {
      "Default": "Information",
      "Microsoft": "Warning",
      "Microsoft.Hosting.Lifetime": "Information"
    }
  },
  "AllowedHosts": "*",
  "Configurable": {
    "Release": "21.04",
    "Environment": "DEV"
  },
  "Features": {
    "Caching": false
  }
}
JSON
import_image "$root" "$CONFIGURABLE_IMAGE" \
  "look-alike of $CONFIGURABLE_IMAGE built offline by kube-lab-grader for grading without a registry" \
  "${dotnet_env[@]}" \
  --change 'WORKDIR /app' \
  --change 'ENTRYPOINT ["dotnet", "/app/configurable.web.dll"]'
