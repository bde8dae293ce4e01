job "legacy-vm" {
  datacenters = ["dc1"]

  group "vm" {
    network {
      port "ssh" {
        static = 2222
        to     = 22
      }
    }

    task "guest" {
      driver = "qemu"

      config {
        image_path  = "/var/lib/images/guest-rootfs.ext4"
        accelerator = "kvm"
        args = [
          "-kernel", "/var/lib/images/vmlinuz",
          "-initrd", "/var/lib/images/initrd.img",
          "-append", "console=ttyS0 root=/dev/vda",
          "-nographic",
        ]
      }

      resources {
        cpu    = 2000
        memory = 1024
      }
    }
  }
}
