#!/usr/bin/env bash
# `conan create` of the lightq recipe (conanfile.py + test_package/) fully offline: Conan Center
# is not reachable here, so the profile declares the system's xsimd (Debian's libxsimd-dev) as a
# platform requirement. Conan 2 comes from PATH or is installed with pip into a venv; when that
# fails the test is skipped (exit 77). Conan's home is a fresh directory under <work-dir>, so
# the user's ~/.conan2 is never touched.
#
# Then once more with xsimd as a Conan package, as from Conan Center: a stand-in recipe packages
# the system's xsimd headers under the name and CMake target that Conan Center's recipe uses.
#
# Usage: conan_create.sh <source-dir> <work-dir> [<c++ compiler> [<xsimd version> [<cmake>
#                        [<generator> [<make program> [<xsimd include dir>]]]]]]
set -euo pipefail
src=$(cd "$1" && pwd)
mkdir -p "$2"
work=$(cd "$2" && pwd)
cxx=${3:-c++}
xsimd_version=${4:-8.1.0}
cmake_bin=${5:-cmake}
generator=${6:-}
make_program=${7:-}
xsimd_include=${8:-/usr/include}

# Conan runs cmake (and ninja) from PATH: use the ones of the enclosing build.
for tool in "$make_program" "$cmake_bin"; do
  if [[ -n $tool && $tool == */* ]]; then PATH="$(dirname "$tool"):$PATH"; fi
done
export PATH

conan=""
if command -v conan >/dev/null 2>&1 && conan --version 2>/dev/null | grep -q 'version 2\.'; then
  conan=$(command -v conan)
else
  venv=${LIGHTQ_CONAN_VENV:-$work/venv}
  if [[ ! -x $venv/bin/conan ]]; then
    echo "-- installing conan 2 with pip into $venv"
    rm -rf "$venv"
    if ! command -v python3 >/dev/null 2>&1 ||
       ! python3 -m venv "$venv" ||
       ! "$venv/bin/python" -m pip install -q --disable-pip-version-check --retries 1 --timeout 20 \
           "conan>=2.0,<3"; then
      rm -rf "$venv"
      echo "SKIPPED: conan 2 is not on PATH and cannot be installed with pip (python3 -m venv + pip install conan)"
      exit 77
    fi
  fi
  conan=$venv/bin/conan
fi
echo "-- $("$conan" --version) ($conan)"

export CONAN_HOME=$work/home
rm -rf "$CONAN_HOME" "$work/test_build"
mkdir -p "$CONAN_HOME"
echo '{"remotes": []}' >"$CONAN_HOME/remotes.json"  # offline: no remote at all

CXX=$cxx "$conan" profile detect --name detected >/dev/null 2>&1
{
  echo "include(detected)"
  echo "[settings]"
  echo "compiler.cppstd=17"
  echo "[conf]"
  echo "tools.build:compiler_executables={\"cpp\": \"$cxx\"}"
  echo "tools.build:jobs=2"
  echo "tools.cmake.cmake_layout:test_folder=$work/test_build"
  echo "tools.cmake.cmaketoolchain:user_presets="
  if [[ $generator == Ninja ]]; then echo "tools.cmake.cmaketoolchain:generator=Ninja"; fi
} >"$work/profile-packaged"
{
  echo "include(profile-packaged)"
  echo "[platform_requires]"
  echo "xsimd/$xsimd_version"
} >"$work/profile"
echo "-- profile $work/profile:"
"$conan" profile show -pr:a "$work/profile" --context host 2>/dev/null | sed -n '/^\[settings\]/,$p' || cat "$work/profile"

expect() {  # log, pattern, what
  grep -q "$2" "$1" || { echo "FAILED: $3 (no '$2' in $1)"; exit 1; }
}

echo "== 1. conan create, xsimd/$xsimd_version from the system ([platform_requires])"
"$conan" create "$src" -pr:a "$work/profile" --build=missing 2>&1 | tee "$work/create.log"
expect "$work/create.log" "xsimd/$xsimd_version - Platform" "xsimd taken from the platform"
expect "$work/create.log" "lightq consumer OK" "test_package ran"

echo "== 2. conan create, xsimd/$xsimd_version as a Conan package (stand-in for Conan Center's)"
mkdir -p "$work/xsimd-recipe"
cat >"$work/xsimd-recipe/conanfile.py" <<PY
# Stand-in for Conan Center's xsimd recipe (same package type, file and target names),
# packaging the headers found in $xsimd_include.
import os
from conan import ConanFile
from conan.tools.files import copy


class XsimdStandIn(ConanFile):
    name = "xsimd"
    package_type = "header-library"
    settings = "os", "arch", "compiler", "build_type"

    def package_id(self):
        self.info.clear()

    def package(self):
        copy(self, "*.hpp", "$xsimd_include", os.path.join(self.package_folder, "include"))

    def package_info(self):
        self.cpp_info.set_property("cmake_file_name", "xsimd")
        self.cpp_info.set_property("cmake_target_name", "xsimd")
        self.cpp_info.set_property("pkg_config_name", "xsimd")
        self.cpp_info.bindirs = []
        self.cpp_info.libdirs = []
PY
"$conan" create "$work/xsimd-recipe" --version "$xsimd_version" -pr:a "$work/profile-packaged" \
  >"$work/xsimd.log" 2>&1 || { cat "$work/xsimd.log"; exit 1; }
"$conan" create "$src" -pr:a "$work/profile-packaged" --build=missing 2>&1 | tee "$work/create-packaged.log"
expect "$work/create-packaged.log" "xsimd/$xsimd_version#.* - Cache" "xsimd taken from the Conan cache"
expect "$work/create-packaged.log" "Target declared 'xsimd'" "CMakeDeps target xsimd"
expect "$work/create-packaged.log" "lightq consumer OK" "test_package ran"
echo "-- conan create OK (platform xsimd and packaged xsimd)"
