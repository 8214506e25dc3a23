"""Conan 2 recipe for lightq: header-only C++17 int8/fp16 tensor kernels (depends on xsimd).

    conan create . --build=missing                      # with Conan Center's xsimd
    conan create . -pr:a profile --build=missing        # offline: profile has
                                                        #   [platform_requires] xsimd/8.1.0
Consumers: find_package(lightq CONFIG REQUIRED) + target_link_libraries(app PRIVATE lightq::lightq).
"""
import os
import re

from conan import ConanFile
from conan.tools.build import check_min_cppstd
from conan.tools.files import copy, load
from conan.tools.layout import basic_layout

required_conan_version = ">=2.0"


class LightqConan(ConanFile):
    name = "lightq"
    description = ("Header-only int8/fp16 tensor kernels (GEMM, conv, attention) for x86 "
                   "(AVX2, AVX-512 VNNI) and Arm (NEON, dot product) CPUs")
    license = "MIT"
    topics = ("quantization", "int8", "fp16", "gemm", "simd", "header-only")
    package_type = "header-library"
    settings = "os", "arch", "compiler", "build_type"
    exports_sources = ("include/*", "cmake/lightqFindXsimd.cmake", "cmake/conan/*", "LICENSE")
    no_copy_source = True

    def set_version(self):
        # The version lives in include/lightq/version.hpp only.
        text = load(self, os.path.join(self.recipe_folder, "include", "lightq", "version.hpp"))
        parts = [re.search(rf"#define LIGHTQ_VERSION_{p} (\d+)", text).group(1)
                 for p in ("MAJOR", "MINOR", "PATCH")]
        self.version = ".".join(parts)

    def layout(self):
        basic_layout(self, src_folder=".")

    def requirements(self):
        # 8.1 (Debian) and 13/14 (Conan Center) share the API lightq uses.
        self.requires("xsimd/[>=8.1 <15]")

    def package_id(self):
        self.info.clear()

    def validate(self):
        if self.settings.get_safe("compiler.cppstd"):
            check_min_cppstd(self, 17)

    def package(self):
        copy(self, "LICENSE", self.source_folder, os.path.join(self.package_folder, "licenses"))
        copy(self, "*.hpp", os.path.join(self.source_folder, "include"),
             os.path.join(self.package_folder, "include"))
        # Build module that finds a platform (system) xsimd, which CMakeDeps does not describe.
        for name in ("lightqFindXsimd.cmake", os.path.join("conan", "lightq-conan-xsimd.cmake")):
            copy(self, name, os.path.join(self.source_folder, "cmake"),
                 os.path.join(self.package_folder, "share", "conan", "lightq"), keep_path=False)

    def package_info(self):
        self.cpp_info.set_property("cmake_file_name", "lightq")
        self.cpp_info.set_property("cmake_target_name", "lightq::lightq")
        self.cpp_info.set_property("pkg_config_name", "lightq")
        self.cpp_info.bindirs = []
        self.cpp_info.libdirs = []
        self.cpp_info.requires = ["xsimd::xsimd"]
        self.cpp_info.builddirs = []
        self.cpp_info.set_property("cmake_build_modules",
                                   [os.path.join("share", "conan", "lightq", "lightq-conan-xsimd.cmake")])
