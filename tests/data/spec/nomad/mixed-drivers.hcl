job "mixed" {
  datacenters = ["dc1"]

  group "svc" {
    task "backup" {
      driver = "raw_exec"

      config {
        command = "/usr/local/bin/backup.sh"
      }
    }

    task "app" {
      driver = "docker"

      config {
        image      = "ghcr.io/example/app:3"
        entrypoint = ["/app/bin/server"]
        work_dir   = "/app"
      }

      template {
        data        = "port = 8080"
        destination = "local/app.conf"
      }

      resources {
        cpu    = 300
        memory = 128
      }
    }
  }
}
