package io.github.sisksse.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

/**
 * Holds many SSE connections on one thread with a {@link Selector}: sends a raw HTTP/1.1 GET, decodes the chunked
 * {@code text/event-stream} response and counts complete data events per connection. Connections opened as
 * "stalled" (stuck clients) send their request and are then never read, with a receive buffer of
 * {@value #STALLED_RECEIVE_BUFFER} bytes so that the server's writes to them block soon; their stream identifiers
 * contain {@code stuck-}, which the bench server uses to count their close reasons apart. Client sockets are bound
 * round-robin to 127.0.0.2 ... 127.0.0.9 so that large runs do not run out of ephemeral ports. Connections go to
 * the server given at construction, or to another one per call ({@link #open(int, boolean, InetSocketAddress)}):
 * one client, on one I/O thread, can hold the streams of several server instances.
 * <p>
 * Each connection also keeps the last event id it received and the sequence number its last data event started
 * with (the bench server's data is {@code <sequence>:<padding>}), so that it can be closed and opened again with
 * {@code Last-Event-ID} ({@link #disconnectAll()}, {@link #reconnect(int)}) and its resumed stream checked: the
 * sequence numbers must follow each other. With {@link #trackArrivals(boolean)}, the moment each sequence number
 * first arrived is recorded.
 * <p>
 * Everything about connections is owned by the I/O thread; other threads submit commands and read the atomic
 * counters.
 */
final class LoadClient implements AutoCloseable {

	private static final int MAX_IN_FLIGHT = 128;

	/** SO_RCVBUF of stalled connections, set before connecting (Linux rounds it up to a few KB). */
	static final int STALLED_RECEIVE_BUFFER = 2048;

	private static final String[] SOURCES = { "127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.6",
			"127.0.0.7", "127.0.0.8", "127.0.0.9" };

	private final InetSocketAddress server;

	private final Selector selector;

	private final Thread ioThread;

	private final ConcurrentLinkedQueue<Runnable> commands = new ConcurrentLinkedQueue<>();

	private final ByteBuffer readBuffer = ByteBuffer.allocate(256 * 1024);

	private final List<Conn> conns = new ArrayList<>();

	private volatile boolean running = true;

	private int nextSource;

	private long nextId;

	private final String idPrefix;

	// Opening, owned by the I/O thread
	private final ArrayDeque<Conn> toOpen = new ArrayDeque<>();

	private int inFlight;

	/** Connections closed by {@link #disconnectAll()}, to be opened again by {@link #reconnect(int)}. */
	private final List<Conn> disconnected = new ArrayList<>();

	private volatile Map<Long, Long> arrivals;

	// Counters, written by the I/O thread only (atomics so that other threads see them at once)
	final AtomicInteger streaming = new AtomicInteger(); // healthy connections with a 200 event-stream response, open

	final AtomicInteger stalledSent = new AtomicInteger(); // stalled connections whose request was sent

	final AtomicInteger failed = new AtomicInteger(); // connect errors, non-200 responses

	final AtomicInteger closedWhileStreaming = new AtomicInteger(); // healthy streams the server (or an error) ended

	final AtomicLong dataEvents = new AtomicLong();

	final AtomicInteger reached = new AtomicInteger();

	final AtomicLong lastReachNanos = new AtomicLong();

	/** When the last connection so far got its response headers (System.nanoTime). */
	final AtomicLong lastStreamingNanos = new AtomicLong();

	/** Data events with an event name ({@code event:}), such as the reset event; the bench never sends one. */
	final AtomicLong namedEvents = new AtomicLong();

	volatile String lastError = "";

	LoadClient(InetSocketAddress server, String idPrefix) throws IOException {
		this.server = server;
		this.idPrefix = idPrefix;
		this.selector = Selector.open();
		this.ioThread = new Thread(this::loop, "load-client-io");
		this.ioThread.setDaemon(true);
		this.ioThread.start();
	}

	/** Start opening {@code count} more connections, at most {@link #MAX_IN_FLIGHT} waiting for headers at once. */
	void open(int count, boolean stalled) {
		open(count, stalled, this.server);
	}

	/** Start opening {@code count} more connections to the given server, after those already waiting to open. */
	void open(int count, boolean stalled, InetSocketAddress target) {
		runOnIo(() -> {
			for (int i = 0; i < count; i++) {
				String id = this.idPrefix + (stalled ? "stuck-" : "") + (this.nextId++);
				this.toOpen.add(new Conn(id, stalled, target));
			}
		});
	}

	/**
	 * Record, from now on, when each sequence number first arrives (see {@link #arrivals()}), or stop recording.
	 */
	void trackArrivals(boolean track) {
		this.arrivals = track ? new ConcurrentHashMap<>() : null;
	}

	/** Sequence number to the System.nanoTime of its first arrival on any connection, while tracking. */
	Map<Long, Long> arrivals() {
		Map<Long, Long> map = this.arrivals;
		return (map != null) ? map : Map.of();
	}

	/** The identifiers of the connections streaming now, in the order they were opened. */
	List<String> identifiers() throws InterruptedException {
		List<String> ids = new ArrayList<>();
		onIo(() -> this.conns.stream().filter((conn) -> conn.streaming).forEach((conn) -> ids.add(conn.id)));
		return ids;
	}

	/** Wait until the given condition holds, polling; return whether it did before the timeout. */
	static boolean await(BooleanSupplier condition, long timeoutMillis) throws InterruptedException {
		long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
		while (!condition.getAsBoolean()) {
			if (System.nanoTime() > deadline) {
				return false;
			}
			TimeUnit.MICROSECONDS.sleep(200);
		}
		return true;
	}

	/** Wait until opening has finished (or is stuck) and return whether all requested connections are up. */
	boolean awaitOpened(int healthy, int stalled, long timeoutMillis) throws InterruptedException {
		return await(() -> this.streaming.get() >= healthy && this.stalledSent.get() >= stalled, timeoutMillis);
	}

	/**
	 * Expect {@code moreEvents} more data events on every streaming connection: a connection counts as "reached"
	 * once it has received that many more than it has now. Resets the reached counter.
	 */
	void expectMore(int moreEvents) throws InterruptedException {
		CountDownLatch done = new CountDownLatch(1);
		runOnIo(() -> {
			for (Conn conn : this.conns) {
				conn.goal = conn.events + moreEvents;
			}
			this.reached.set(0);
			this.lastReachNanos.set(System.nanoTime());
			done.countDown();
		});
		if (!done.await(10, TimeUnit.SECONDS)) {
			throw new IllegalStateException("I/O thread did not respond");
		}
	}

	/** Close every connection with a reset (no TIME_WAIT) and forget them. */
	void closeAll() throws InterruptedException {
		CountDownLatch done = new CountDownLatch(1);
		runOnIo(() -> {
			closeEverything();
			this.disconnected.clear();
			done.countDown();
		});
		done.await(30, TimeUnit.SECONDS);
	}

	/**
	 * Close every connection with a reset, as {@link #closeAll()} does, but remember the streaming ones (identifier,
	 * server, last event id and sequence number) for {@link #reconnect(int)}.
	 * @return how many were streaming, hence will be reconnected
	 */
	int disconnectAll() throws InterruptedException {
		int[] count = new int[1];
		onIo(() -> {
			this.disconnected.clear();
			for (Conn conn : this.conns) {
				if (conn.streaming && !conn.stalled) {
					this.disconnected.add(conn);
				}
			}
			count[0] = this.disconnected.size();
			closeEverything();
		});
		return count[0];
	}

	/**
	 * Open again every connection {@link #disconnectAll()} closed, all queued at once (at most
	 * {@link #MAX_IN_FLIGHT} waiting for headers), each with its identifier and {@code Last-Event-ID}. Each counts
	 * as "reached" once it has received {@code goal} data events, and its data events are checked to continue the
	 * sequence numbers where the closed connection stopped (see {@link #tally()}).
	 */
	void reconnect(int goal) {
		runOnIo(() -> {
			this.reached.set(0);
			this.lastReachNanos.set(System.nanoTime());
			for (Conn old : this.disconnected) {
				Conn conn = new Conn(old.id, false, old.target);
				conn.resumeFrom = old.lastEventId();
				conn.lastSeq = old.lastSeq;
				conn.checkOrder = true;
				conn.goal = goal;
				this.toOpen.add(conn);
			}
			this.disconnected.clear();
		});
	}

	/**
	 * What the open connections received against their goal: how many got exactly that many data events with their
	 * sequence numbers in order, how many fewer, how many more, and how many saw a sequence number out of order.
	 */
	record Tally(int connections, int exactlyInOrder, int fewer, int more, int disordered) {
	}

	/** Count, on the I/O thread, the open connections by what they received against their goal. */
	Tally tally() throws InterruptedException {
		int[] counts = new int[5];
		onIo(() -> {
			for (Conn conn : this.conns) {
				if (!conn.open || conn.stalled) {
					continue;
				}
				counts[0]++;
				if (conn.events == conn.goal && !conn.disordered) {
					counts[1]++;
				}
				if (conn.events != conn.goal) {
					counts[(conn.events < conn.goal) ? 2 : 3]++;
				}
				if (conn.disordered) {
					counts[4]++;
				}
			}
		});
		return new Tally(counts[0], counts[1], counts[2], counts[3], counts[4]);
	}

	private void closeEverything() {
		for (Conn conn : this.conns) {
			conn.close();
		}
		this.conns.clear();
		this.toOpen.clear();
		this.inFlight = 0;
		this.streaming.set(0);
		this.stalledSent.set(0);
		this.closedWhileStreaming.set(0);
		this.reached.set(0);
	}

	/** Run on the I/O thread and wait for it. */
	private void onIo(Runnable command) throws InterruptedException {
		CountDownLatch done = new CountDownLatch(1);
		runOnIo(() -> {
			try {
				command.run();
			}
			finally {
				done.countDown();
			}
		});
		if (!done.await(30, TimeUnit.SECONDS)) {
			throw new IllegalStateException("I/O thread did not respond");
		}
	}

	@Override
	public void close() throws InterruptedException {
		closeAll();
		this.running = false;
		this.selector.wakeup();
		this.ioThread.join(10_000);
		try {
			this.selector.close();
		}
		catch (IOException ex) {
			// ignore
		}
	}

	private void runOnIo(Runnable command) {
		this.commands.add(command);
		this.selector.wakeup();
	}

	private void loop() {
		while (this.running) {
			try {
				this.selector.select(20);
				Runnable command;
				while ((command = this.commands.poll()) != null) {
					command.run();
				}
				openMore();
				Iterator<SelectionKey> keys = this.selector.selectedKeys().iterator();
				while (keys.hasNext()) {
					SelectionKey key = keys.next();
					keys.remove();
					Conn conn = (Conn) key.attachment();
					if (!key.isValid()) {
						continue;
					}
					if (key.isConnectable()) {
						connected(conn);
					}
					else if (key.isReadable()) {
						read(conn);
					}
				}
			}
			catch (IOException | RuntimeException ex) {
				this.lastError = ex.toString();
			}
		}
	}

	private void openMore() {
		while (!this.toOpen.isEmpty() && this.inFlight < MAX_IN_FLIGHT) {
			Conn conn = this.toOpen.poll();
			try {
				SocketChannel channel = SocketChannel.open();
				conn.channel = channel;
				channel.configureBlocking(false);
				if (conn.stalled) {
					channel.setOption(StandardSocketOptions.SO_RCVBUF, STALLED_RECEIVE_BUFFER);
				}
				channel.bind(new InetSocketAddress(SOURCES[this.nextSource++ % SOURCES.length], 0));
				this.inFlight++;
				conn.inFlight = true;
				this.conns.add(conn);
				if (channel.connect(conn.target)) {
					connected(conn);
				}
				else {
					conn.key = channel.register(this.selector, SelectionKey.OP_CONNECT, conn);
				}
			}
			catch (IOException ex) {
				this.lastError = "open: " + ex;
				fail(conn);
			}
		}
	}

	private void connected(Conn conn) {
		try {
			conn.channel.finishConnect();
			String resume = (conn.resumeFrom != null) ? "Last-Event-ID: " + conn.resumeFrom + "\r\n" : "";
			byte[] request = ("GET /sse?id=" + conn.id + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
					+ resume + "\r\n")
				.getBytes(StandardCharsets.US_ASCII);
			ByteBuffer buffer = ByteBuffer.wrap(request);
			conn.channel.write(buffer);
			if (buffer.hasRemaining()) {
				throw new IOException("request not written at once");
			}
			if (conn.stalled) {
				// Never read: the server's writes fill our small receive buffer and then block or queue.
				if (conn.key != null) {
					conn.key.interestOps(0);
				}
				doneInFlight(conn);
				this.stalledSent.incrementAndGet();
			}
			else if (conn.key != null) {
				conn.key.interestOps(SelectionKey.OP_READ);
			}
			else {
				conn.key = conn.channel.register(this.selector, SelectionKey.OP_READ, conn);
			}
		}
		catch (IOException ex) {
			this.lastError = "connect: " + ex;
			fail(conn);
		}
	}

	private void doneInFlight(Conn conn) {
		if (conn.inFlight) {
			conn.inFlight = false;
			this.inFlight--;
		}
	}

	private void fail(Conn conn) {
		this.failed.incrementAndGet();
		doneInFlight(conn);
		conn.close();
	}

	private void read(Conn conn) {
		ByteBuffer buffer = this.readBuffer;
		buffer.clear();
		int n;
		try {
			n = conn.channel.read(buffer);
		}
		catch (IOException ex) {
			n = -1;
		}
		if (n < 0) {
			if (conn.streaming) {
				this.closedWhileStreaming.incrementAndGet();
				this.streaming.decrementAndGet();
				conn.close();
			}
			else {
				fail(conn);
			}
			return;
		}
		long now = System.nanoTime();
		byte[] bytes = buffer.array();
		int i = 0;
		if (!conn.streaming) {
			i = conn.headers(bytes, n);
			if (i < 0) {
				return; // headers incomplete
			}
			doneInFlight(conn);
			if (!conn.streaming) {
				this.lastError = "response: " + conn.statusLine;
				fail(conn);
				return;
			}
			this.streaming.incrementAndGet();
			this.lastStreamingNanos.accumulateAndGet(now, Math::max);
		}
		int before = conn.events;
		int namedBefore = conn.named;
		conn.arrivals = this.arrivals;
		conn.now = now;
		conn.body(bytes, i, n);
		if (conn.named != namedBefore) {
			this.namedEvents.addAndGet(conn.named - namedBefore);
		}
		int got = conn.events - before;
		if (got > 0) {
			this.dataEvents.addAndGet(got);
			int t = conn.goal;
			if (before < t && conn.events >= t) {
				this.reached.incrementAndGet();
				this.lastReachNanos.accumulateAndGet(now, Math::max);
			}
		}
		if (conn.ended()) {
			// The server completed the response (last chunk); the connection would stay open for keep-alive.
			this.closedWhileStreaming.incrementAndGet();
			this.streaming.decrementAndGet();
			conn.close();
		}
	}

	/** One connection and its minimal HTTP/1.1 + chunked + SSE parser state. */
	private static final class Conn {

		/** How much of each line is kept to read its field: enough for ids and a data line's sequence number. */
		private static final int LINE_KEPT = 64;

		final String id;

		final boolean stalled;

		final InetSocketAddress target;

		/** The Last-Event-ID this connection was opened with, if any. */
		String resumeFrom;

		SocketChannel channel;

		SelectionKey key;

		boolean inFlight;

		boolean open = true;

		boolean streaming;

		String statusLine = "";

		// Header parsing
		private final StringBuilder head = new StringBuilder();

		private boolean chunked;

		// Chunk decoding: 0 = size line, 1 = size line LF, 2 = data, 3 = CR after data, 4 = LF after data, 5 = end
		private int chunkState;

		private int chunkRemaining;

		// SSE scanning
		private boolean prevNewline;

		private int eventPos;

		private boolean eventIsData;

		/** The start of the current line, {@link #LINE_KEPT} bytes at most, and its full length. */
		private final byte[] line = new byte[LINE_KEPT];

		private int lineLength;

		/** The value of the current event's id line (without allocating per event), -1 when it has none. */
		private final byte[] eventId = new byte[LINE_KEPT];

		private int eventIdLength = -1;

		private boolean eventNamed;

		private long eventSeq = -1;

		int events;

		int goal = Integer.MAX_VALUE;

		/** The id of the last event (with or without data) received, as a browser keeps it. */
		private final byte[] lastId = new byte[LINE_KEPT];

		private int lastIdLength = -1;

		/** The sequence number of the last data event received, -1 before the first. */
		long lastSeq = -1;

		/** Whether to check that each data event's sequence number follows the previous one. */
		boolean checkOrder;

		/** Whether a checked data event's sequence number did not follow the previous one. */
		boolean disordered;

		int named;

		/** Set by the client before each read: where arrivals go (null when not tracked), and the read's time. */
		Map<Long, Long> arrivals;

		long now;

		Conn(String id, boolean stalled, InetSocketAddress target) {
			this.id = id;
			this.stalled = stalled;
			this.target = target;
		}

		boolean ended() {
			return this.chunkState == 5;
		}

		/** Parse headers; return the offset of the body in {@code bytes} once complete, or -1. */
		int headers(byte[] bytes, int n) {
			for (int i = 0; i < n; i++) {
				this.head.append((char) bytes[i]);
				int len = this.head.length();
				if (len >= 4 && this.head.charAt(len - 1) == '\n' && this.head.charAt(len - 2) == '\r'
						&& this.head.charAt(len - 3) == '\n' && this.head.charAt(len - 4) == '\r') {
					String text = this.head.toString();
					int eol = text.indexOf("\r\n");
					this.statusLine = text.substring(0, eol);
					this.streaming = this.statusLine.startsWith("HTTP/1.1 200");
					this.chunked = text.toLowerCase().contains("transfer-encoding: chunked");
					this.head.setLength(0);
					return i + 1;
				}
			}
			return -1;
		}

		void body(byte[] bytes, int from, int to) {
			if (!this.chunked) {
				scan(bytes, from, to);
				return;
			}
			int i = from;
			while (i < to) {
				switch (this.chunkState) {
					case 0 -> {
						byte b = bytes[i++];
						if (b == '\r') {
							this.chunkState = 1;
						}
						else {
							int digit = Character.digit(b, 16);
							if (digit >= 0) {
								this.chunkRemaining = this.chunkRemaining * 16 + digit;
							}
						}
					}
					case 1 -> {
						i++;
						this.chunkState = (this.chunkRemaining == 0) ? 5 : 2;
					}
					case 2 -> {
						int end = Math.min(to, i + this.chunkRemaining);
						scan(bytes, i, end);
						this.chunkRemaining -= end - i;
						i = end;
						if (this.chunkRemaining == 0) {
							this.chunkState = 3;
						}
					}
					case 3 -> {
						i++;
						this.chunkState = 4;
					}
					case 4 -> {
						i++;
						this.chunkState = 0;
					}
					default -> i = to;
				}
			}
		}

		private void scan(byte[] bytes, int from, int to) {
			for (int i = from; i < to; i++) {
				byte b = bytes[i];
				if (b == '\n') {
					if (this.prevNewline) {
						if (this.eventIsData) {
							dataEvent();
						}
						if (this.eventIdLength >= 0) {
							System.arraycopy(this.eventId, 0, this.lastId, 0, this.eventIdLength);
							this.lastIdLength = this.eventIdLength;
						}
						this.prevNewline = false;
						this.eventPos = 0;
						this.eventIsData = false;
						this.eventIdLength = -1;
						this.eventNamed = false;
						this.eventSeq = -1;
						this.lineLength = 0;
						continue;
					}
					endOfLine();
					this.prevNewline = true;
				}
				else {
					// A block is an event when one of its lines is a data line (an id: line may come first).
					if (this.prevNewline || this.eventPos == 0) {
						this.eventIsData |= (b == 'd');
					}
					if (this.lineLength < LINE_KEPT) {
						this.line[this.lineLength] = b;
					}
					this.lineLength++;
					this.prevNewline = false;
				}
				this.eventPos++;
			}
		}

		/** A line ended: keep what its field says about the event (id, name, the data's sequence number). */
		private void endOfLine() {
			int kept = Math.min(this.lineLength, LINE_KEPT);
			if (startsWith("id:", kept)) {
				int start = (kept > 3 && this.line[3] == ' ') ? 4 : 3;
				this.eventIdLength = kept - start;
				System.arraycopy(this.line, start, this.eventId, 0, this.eventIdLength);
			}
			else if (startsWith("event:", kept)) {
				this.eventNamed = true;
			}
			else if (startsWith("data:", kept) && this.eventSeq < 0) {
				int at = (kept > 5 && this.line[5] == ' ') ? 6 : 5;
				long seq = -1;
				while (at < kept && this.line[at] >= '0' && this.line[at] <= '9') {
					seq = Math.max(seq, 0) * 10 + (this.line[at++] - '0');
				}
				this.eventSeq = (at < kept && this.line[at] == ':') ? seq : -1;
			}
			this.lineLength = 0;
		}

		private void dataEvent() {
			this.events++;
			if (this.eventNamed) {
				this.named++;
			}
			long seq = this.eventSeq;
			if (seq < 0) {
				return;
			}
			if (this.checkOrder && this.lastSeq >= 0 && seq != this.lastSeq + 1) {
				this.disordered = true;
			}
			this.lastSeq = seq;
			Map<Long, Long> arrivals = this.arrivals;
			if (arrivals != null) {
				arrivals.putIfAbsent(seq, this.now);
			}
		}

		private boolean startsWith(String field, int kept) {
			if (kept < field.length()) {
				return false;
			}
			for (int i = 0; i < field.length(); i++) {
				if (this.line[i] != field.charAt(i)) {
					return false;
				}
			}
			return true;
		}

		/** The id of the last event received (with or without data), as a browser keeps it; null before any. */
		String lastEventId() {
			return (this.lastIdLength < 0) ? null
					: new String(this.lastId, 0, this.lastIdLength, StandardCharsets.US_ASCII);
		}

		void close() {
			this.open = false;
			this.streaming = false;
			try {
				if (this.channel != null) {
					if (this.channel.isOpen() && this.channel.isConnected()) {
						this.channel.setOption(StandardSocketOptions.SO_LINGER, 0);
					}
					this.channel.close();
				}
			}
			catch (IOException ex) {
				// ignore
			}
		}

	}

}
