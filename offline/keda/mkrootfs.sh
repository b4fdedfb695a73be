#!/bin/sh
# Builds /rootfs: the files gcr.io/distroless/static:nonroot provides (passwd/group
# with root, nobody and nonroot=65532, nsswitch.conf, CA bundle, zoneinfo, /tmp
# 1777, /home/nonroot), taken from the offline Debian base.
set -eu
r=/rootfs
mkdir -p $r/etc/ssl/certs $r/usr/share $r/tmp $r/home/nonroot $r/root $r/var
chmod 1777 $r/tmp
chmod 700 $r/root
chown 65532:65532 $r/home/nonroot
cat >$r/etc/passwd <<'P'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
P
cat >$r/etc/group <<'G'
root:x:0:
nobody:x:65534:
tty:x:5:
staff:x:50:
nonroot:x:65532:
G
echo 'hosts: files dns' >$r/etc/nsswitch.conf
cp /etc/ssl/certs/ca-certificates.crt $r/etc/ssl/certs/ca-certificates.crt
cp -a /usr/share/zoneinfo $r/usr/share/zoneinfo
cp /etc/os-release $r/etc/os-release
