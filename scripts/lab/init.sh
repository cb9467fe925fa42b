#!/bin/busybox sh
# /init of the lab's initramfs: runs as PID 1 inside the guest under busybox sh.
#
# It starts a few recognisable processes, prints ground truth to the serial
# console and then idles so the host can stop the VM and dump its memory.
#
# Every ground-truth line has the form  B2I|<section>|<text>  so the host can
# pick it out of the serial log even if a kernel message slips in between.
# The host waits for the line  B2I-READY  (see scripts/lab/boot.sh).

/bin/busybox --install -s /bin
export PATH=/bin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1

# Keep kernel messages off the console while we print, and make sure
# /proc/kallsyms shows real addresses (we are root, but be explicit).
echo 1 >/proc/sys/kernel/printk
echo 0 >/proc/sys/kernel/kptr_restrict
ip link set lo up

# ---- recognisable processes -------------------------------------------------
# comm comes from the name of the executed file (a symlink to busybox made at
# build time), argv[0] picks the busybox applet: so comm is distinctive while
# the cmdline stays an ordinary command.

# sleeper: comm "b2i_sleeper", cmdline "sleep 31337", a marker in its environment
( export B2I_ENV=b2i-environ-marker; exec -a sleep /bin/b2i_sleeper 31337 ) </dev/null &
# listener: comm "b2i_listener", TCP port 4444 in LISTEN (a dual-stack [::] socket: /proc/net/tcp6)
( exec -a nc /bin/b2i_listener -l -p 4444 ) </dev/null >/dev/null 2>&1 &
# holder: comm "b2i_holder", a shell holding /etc/b2i_marker open on fd 3;
# the loop keeps the shell itself alive (a lone last command could be exec'd)
( exec -a sh /bin/b2i_holder -c 'exec 3</etc/b2i_marker; while :; do sleep 100000; done' ) </dev/null &

# Wait (bounded) until the listener's socket is there: port 4444 = 0x115C, state 0A = LISTEN.
i=0
while [ $i -lt 50 ] && ! grep -q ':115C [0:]* 0A' /proc/net/tcp /proc/net/tcp6; do
    sleep 0.2; i=$((i + 1))
done
sleep 1   # let the holder's child sleep exec too

# ---- ground truth ------------------------------------------------------------
emit() {   # emit SECTION FILE: print every line of FILE as B2I|SECTION|line
    while IFS= read -r line || [ -n "$line" ]; do
        echo "B2I|$1|$line"
    done <"$2"
}

echo "B2I-BEGIN"
grep -E ' (_text|_stext|_etext|_end|init_top_pgt|swapper_pg_dir|linux_banner|init_task|init_mm|init_uts_ns|page_offset_base|vmalloc_base|vmemmap_base|phys_base|vmcoreinfo_note)$' \
    /proc/kallsyms >/tmp/kallsyms
emit kallsyms /tmp/kallsyms
uname -a >/tmp/uname
emit uname /tmp/uname
uname -r >/tmp/release
emit release /tmp/release
emit version /proc/version
emit cmdline /proc/cmdline
emit iomem /proc/iomem
[ -r /sys/kernel/vmcoreinfo ] && emit vmcoreinfo /sys/kernel/vmcoreinfo
emit tcp /proc/net/tcp
emit tcp6 /proc/net/tcp6

# Processes. The glob is expanded once, by PID 1 itself, before any helper is
# forked, so the list holds only processes that still exist at dump time
# (kernel threads may come and go). cmdline: NUL between arguments -> \x1f.
for d in /proc/[0-9]*; do
    pid=${d#/proc/}
    read -r stat <"$d/stat" || continue
    comm=${stat#*(}; comm=${comm%)*}
    set -- ${stat##*) }   # unquoted on purpose: split into fields
    state=$1 ppid=$2
    cmdline=$(tr '\000' '\037' <"$d/cmdline")
    echo "B2I|ps|$pid|$ppid|$state|$comm|$cmdline"
    if [ -n "$cmdline" ]; then
        for f in "$d"/fd/*; do
            echo "B2I|fd|$pid|${f##*/}|$(readlink "$f")"
        done
    fi
done
echo "B2I-END"
echo "B2I-READY"

# Idle without forking anything new: block reading a FIFO nobody writes.
mkfifo /tmp/idle
exec 9<>/tmp/idle
while :; do read -r _ <&9; done
