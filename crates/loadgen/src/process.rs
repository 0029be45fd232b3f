//! Child processes whose memory is measured apart from the load
//! generator's, and what /proc says about them: resident memory now
//! (VmRSS) and at its highest (VmHWM).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, ChildStdout, Command};

use crate::options::Options;

/// The `scrm` binary: as named, or built beside this one.
pub fn scrm_bin(opts: &Options) -> Result<PathBuf> {
    let path = match &opts.scrm_bin {
        Some(path) => path.clone(),
        None => std::env::current_exe()?
            .parent()
            .context("this binary has no folder")?
            .join("scrm"),
    };
    if !path.is_file() {
        bail!(
            "no scrm binary at {}: build it with `cargo build --release -p scrm-api` \
             into the same target folder, or pass --scrm-bin",
            path.display()
        );
    }
    Ok(path)
}

/// A server running as a child process; killed when dropped.
pub struct ChildServer {
    pub addr: SocketAddr,
    child: Child,
}

impl ChildServer {
    /// Starts `command` and waits for it to print the address it
    /// listens on (a line holding `127.0.0.1:<port>`), then keeps reading
    /// its output so that it never blocks on a full pipe.
    pub async fn start(mut command: Command) -> Result<ChildServer> {
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command
            .spawn()
            .context("failed to start the child server")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let find = async {
            while let Some(line) = lines.next_line().await? {
                if let Some(addr) = loopback_address(&line) {
                    return Ok(addr);
                }
            }
            bail!("the child server exited before it listened")
        };
        let addr = tokio::time::timeout(Duration::from_secs(60), find)
            .await
            .context("the child server did not listen within a minute")??;
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(ChildServer { addr, child })
    }

    pub fn pid(&self) -> Result<u32> {
        self.child.id().context("the child server has exited")
    }

    pub fn rss_kib(&self) -> Result<u64> {
        status_kib(self.pid()?, "VmRSS")
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// `127.0.0.1:PORT` anywhere in a line of output.
fn loopback_address(line: &str) -> Option<SocketAddr> {
    let at = line.find("127.0.0.1:")?;
    let rest = &line[at..];
    let end = rest
        .char_indices()
        .skip("127.0.0.1:".len())
        .find(|(_, c)| !c.is_ascii_digit())
        .map_or(rest.len(), |(i, _)| i);
    rest[..end].parse().ok()
}

/// A field of /proc/PID/status in KiB ("VmRSS", "VmHWM").
pub fn status_kib(pid: u32, field: &str) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("cannot read the status of process {pid}"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .with_context(|| format!("no {field} for process {pid}"))
}

/// How a measured command went.
pub struct Finished {
    pub wall: Duration,
    /// The highest VmHWM read while it ran, polled every millisecond.
    pub peak_kib: u64,
    pub stdout: String,
}

/// Runs `command` to its end, polling its peak resident memory.
pub async fn run_measured(mut command: Command) -> Result<Finished> {
    command.stdout(Stdio::piped()).kill_on_drop(true);
    let started = Instant::now();
    let mut child = command.spawn().context("failed to start the command")?;
    let pid = child.id().context("the command exited at once")?;
    let reader = tokio::spawn(read_all(child.stdout.take().context("no stdout")?));
    let mut peak_kib = 0;
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if let Ok(hwm) = status_kib(pid, "VmHWM") {
            peak_kib = peak_kib.max(hwm);
        }
        if started.elapsed() > Duration::from_secs(300) {
            let _ = child.kill().await;
            bail!("the command ran for five minutes");
        }
        tick.tick().await;
    };
    let wall = started.elapsed();
    let stdout = reader.await??;
    anyhow::ensure!(status.success(), "the command failed ({status}): {stdout}");
    Ok(Finished {
        wall,
        peak_kib,
        stdout,
    })
}

async fn read_all(mut stdout: ChildStdout) -> Result<String> {
    let mut text = String::new();
    stdout.read_to_string(&mut text).await?;
    Ok(text)
}

/// The soft limit on open files of this process (children inherit it).
pub fn open_files_limit() -> Result<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits")?;
    limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|v| v.parse().ok())
        .context("cannot read the open-files limit")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_listening_address_is_found_in_either_log_format() {
        let json = r#"{"level":"INFO","fields":{"message":"listening","addr":"127.0.0.1:4321"}}"#;
        assert_eq!(
            loopback_address(json),
            Some("127.0.0.1:4321".parse().unwrap())
        );
        assert_eq!(
            loopback_address("listening 127.0.0.1:80"),
            Some("127.0.0.1:80".parse().unwrap())
        );
        assert_eq!(loopback_address("no address here"), None);
    }

    #[test]
    fn this_process_has_a_resident_size_and_a_file_limit() {
        assert!(status_kib(std::process::id(), "VmRSS").unwrap() > 0);
        assert!(open_files_limit().unwrap() > 0);
    }
}
