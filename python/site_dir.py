"""Where `meson install` puts the Python package: the folder this
interpreter searches for modules installed under PREFIX (its purelib for that
prefix), printed on line 1; line 2 says "searched" when the interpreter looks
there now, or "not searched" when only PYTHONPATH would make it.

Usage: python3 site_dir.py PREFIX

meson's own choice (`lib/python3/dist-packages` under any prefix with
Debian's python3) is one the interpreter searches only for /usr; this picks,
in order: the user site for the user base (`--prefix=$HOME/.local`), a folder
of sys.path under the prefix (the shortest, so /usr gets
/usr/lib/python3/dist-packages, not /usr/local's), else the interpreter's
POSIX scheme's purelib with the prefix as its base.
"""
import os
import site
import sys
import sysconfig


def site_dir(prefix):
    prefix = os.path.realpath(prefix)
    if prefix == os.path.realpath(site.getuserbase()):
        return site.getusersitepackages(), True
    under = []
    for entry in sys.path:
        if not entry or os.path.basename(entry) not in ("site-packages", "dist-packages"):
            continue
        real = os.path.realpath(entry)
        if real.startswith(prefix + os.sep):
            under.append((len(os.path.relpath(real, prefix).split(os.sep)), entry))
    if under:
        return min(under)[1], True
    # Debian's default scheme (posix_local) would add a "local/" of its own
    scheme = "posix_prefix" if os.name == "posix" else sysconfig.get_default_scheme()
    path = sysconfig.get_path("purelib", scheme, vars={"base": prefix, "platbase": prefix})
    return path, False


if __name__ == "__main__":
    folder, searched = site_dir(sys.argv[1])
    print(folder)
    print("searched" if searched else "not searched")
