# Sourced by the ensure-* scripts. install_debian_packages WHO NEEDS PACKAGE...: installs the missing Debian
# packages when running as root with apt; elsewhere says "WHO: NEEDS PACKAGE...; install them" and fails.
install_debian_packages() {
  local who=$1 needs=$2
  shift 2
  (($# == 0)) && return 0
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "$who: installing $* from Debian's packages" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  else
    echo "$who: $needs $*; install them (e.g. apt-get install $*)" >&2
    return 1
  fi
}
