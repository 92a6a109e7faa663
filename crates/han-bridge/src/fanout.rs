//! The clients: each has a queue of chunks and a writer thread of its own,
//! so one that stalls only fills its own queue. The reader hands every chunk
//! to every queue without waiting; a queue over its byte budget is dropped
//! with its client.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::notes::Notes;

/// The clients and their limits.
#[derive(Debug)]
pub struct Fanout {
    clients: Mutex<Vec<Client>>,
    /// Bytes a client may have queued (not yet written to its socket).
    budget: usize,
    max_clients: usize,
    notes: Notes,
}

/// One connected client, as the reader sees it.
#[derive(Debug)]
struct Client {
    addr: SocketAddr,
    tx: Sender<Arc<[u8]>>,
    state: Arc<State>,
    /// A handle on the socket, to shut it down under a writer blocked in
    /// `write` when the client is dropped.
    stream: TcpStream,
}

/// Shared by the reader and a client's writer.
#[derive(Debug, Default)]
struct State {
    /// Bytes handed to the writer and not yet written.
    queued: AtomicUsize,
    /// Set by whoever ends the client first (the reader dropping it, the
    /// writer failing); the other says nothing more.
    gone: AtomicBool,
}

impl Fanout {
    /// No clients yet.
    pub fn new(budget: usize, max_clients: usize, notes: Notes) -> Fanout {
        Fanout { clients: Mutex::new(Vec::new()), budget, max_clients, notes }
    }

    /// Bytes a client may have queued.
    pub fn budget(&self) -> usize {
        self.budget
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Client>> {
        // A panic elsewhere leaves the list usable: it is only a list.
        self.clients.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Accepts clients for ever.
    pub fn serve(&self, listener: &TcpListener) {
        for conn in listener.incoming() {
            match conn {
                Ok(stream) => self.add(stream),
                Err(e) => {
                    // Out of file descriptors, say: wait rather than spin.
                    self.notes.warn(&format!("cannot accept a client: {e}"));
                    std::thread::sleep(Duration::from_millis(200));
                }
            }
        }
    }

    /// Takes a new connection, or refuses it when there are enough.
    fn add(&self, stream: TcpStream) {
        let Ok(addr) = stream.peer_addr() else { return };
        let mut clients = self.lock();
        clients.retain(|c| !c.state.gone.load(Ordering::Acquire));
        if clients.len() >= self.max_clients {
            self.notes.warn(&format!("refused client {addr}: already {} clients (--max-clients)", clients.len()));
            stream.shutdown(Shutdown::Both).ok();
            return;
        }
        // Small chunks leave at once: readers want each frame as it comes.
        stream.set_nodelay(true).ok();
        let handle = match stream.try_clone() {
            Ok(h) => h,
            Err(e) => {
                self.notes.warn(&format!("refused client {addr}: {e}"));
                return;
            }
        };
        let (tx, rx) = mpsc::channel();
        let state = Arc::new(State::default());
        let (st, notes) = (Arc::clone(&state), self.notes);
        let spawned = std::thread::Builder::new()
            .name(format!("client {addr}"))
            .spawn(move || write(stream, &rx, &st, addr, notes));
        if let Err(e) = spawned {
            self.notes.warn(&format!("refused client {addr}: no thread for it: {e}"));
            handle.shutdown(Shutdown::Both).ok();
            return;
        }
        clients.push(Client { addr, tx, state, stream: handle });
        self.notes.note(&format!("client {addr} connected ({} of at most {})", clients.len(), self.max_clients));
    }

    /// Hands a chunk read from the port to every client; never waits on one.
    pub fn send(&self, chunk: &[u8]) {
        // Most reads of a quiet port are empty (a timeout): no lock for them.
        if chunk.is_empty() {
            return;
        }
        let mut clients = self.lock();
        if clients.is_empty() {
            return;
        }
        let chunk: Arc<[u8]> = Arc::from(chunk);
        let len = chunk.len();
        clients.retain(|c| {
            if c.state.gone.load(Ordering::Acquire) {
                return false;
            }
            let queued = c.state.queued.load(Ordering::Acquire);
            if queued.saturating_add(len) > self.budget {
                if !c.state.gone.swap(true, Ordering::AcqRel) {
                    self.notes.warn(&format!("dropped client {}: stalled ({queued} bytes queued)", c.addr));
                }
                c.stream.shutdown(Shutdown::Both).ok();
                return false;
            }
            // Counted before it is sent, so the writer never takes off more than was put on.
            c.state.queued.fetch_add(len, Ordering::AcqRel);
            // A failed send: the writer has ended, and said why.
            c.tx.send(Arc::clone(&chunk)).is_ok()
        });
    }
}

/// How often an idle writer looks whether its client hung up: one that
/// leaves while no bytes flow must not hold a place (--max-clients).
const HANGUP_CHECK: Duration = Duration::from_secs(1);

/// A client's writer: its queue to its socket, until either ends.
fn write(mut stream: TcpStream, rx: &Receiver<Arc<[u8]>>, state: &State, addr: SocketAddr, notes: Notes) {
    loop {
        let chunk = match rx.recv_timeout(HANGUP_CHECK) {
            Ok(chunk) => chunk,
            Err(RecvTimeoutError::Timeout) => {
                if hung_up(&mut stream) && !state.gone.swap(true, Ordering::AcqRel) {
                    notes.note(&format!("client {addr} left"));
                }
                if state.gone.load(Ordering::Acquire) {
                    break;
                }
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => break,
        };
        if let Err(e) = stream.write_all(&chunk) {
            if !state.gone.swap(true, Ordering::AcqRel) {
                let left = matches!(
                    e.kind(),
                    io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
                );
                if left {
                    notes.note(&format!("client {addr} left"));
                } else {
                    notes.warn(&format!("dropped client {addr}: {e}"));
                }
            }
            break;
        }
        state.queued.fetch_sub(chunk.len(), Ordering::AcqRel);
    }
    stream.shutdown(Shutdown::Both).ok();
}

/// Whether the client closed its end (a read gives the end of the stream).
/// What a client sends is not for anyone: it is read and dropped.
fn hung_up(stream: &mut TcpStream) -> bool {
    if stream.set_nonblocking(true).is_err() {
        return false;
    }
    let mut buf = [0u8; 512];
    // A client that keeps sending is not left: a few reads, then back to work.
    let mut reads = 0;
    let closed = loop {
        match stream.read(&mut buf) {
            Ok(0) => break true,
            Ok(_) if reads >= 64 => break false,
            Ok(_) => reads += 1,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                break !matches!(e.kind(), io::ErrorKind::WouldBlock);
            }
        }
    };
    // Writes block again: a slow client fills its queue, not this thread's loop.
    stream.set_nonblocking(false).ok();
    closed
}
