# AX_AKV_REQUIRE_PKG(VARIABLE-PREFIX, MODULE, DEBIAN-PACKAGE)
# ------------------------------------------------------------
# Find MODULE with pkg-config or stop configure with a message naming the
# Debian package that provides it.
AC_DEFUN([AX_AKV_REQUIRE_PKG], [
  PKG_CHECK_MODULES([$1], [$2], [],
    [AC_MSG_ERROR([$2 was not found by pkg-config: install it (Debian: apt-get install $3)])])
])
