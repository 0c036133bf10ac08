package io.github.sisksse.redis;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import io.github.sisksse.EventLog;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.data.redis.connection.RedisConnection;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.data.redis.connection.ReturnType;
import org.springframework.data.redis.connection.stream.ByteRecord;
import org.springframework.data.redis.connection.stream.ReadOffset;
import org.springframework.data.redis.connection.stream.StreamOffset;
import org.springframework.data.redis.connection.stream.StreamReadOptions;

/**
 * Feeds the registry's {@link EventLog.Reader} from the Redis stream, in order, on a thread of its own: a blocking
 * {@code XREAD} from the last id read, never from "the latest" (which would skip what was appended between two
 * reads). Every entry carries its epoch, and the epoch key is read again whenever a read finds nothing: when it
 * changed (Redis flushed or replaced), the reader is told and the new history is read from its start.
 * <p>
 * A failed call is retried with a backoff of up to {@value #MAX_BACKOFF_MILLIS} ms, from the last id read, so that
 * nothing appended after Redis is back is missed. A reader that cannot take an entry (its registry is full) is
 * offered it again a little later.
 * <p>
 * <b>Thread safety.</b> Confined: {@link #catchUp()} runs on the thread that starts the log, before the tailing
 * thread starts; everything else on that thread. Only {@link #stop()} is called from elsewhere.
 */
final class StreamTailer implements Runnable {

	private static final Log logger = LogFactory.getLog(RedisEventLog.class);

	private static final long MIN_BACKOFF_MILLIS = 50;

	private static final long MAX_BACKOFF_MILLIS = 1600;

	/** How many entries one read returns at most. */
	private static final int BATCH = 512;

	private static final byte[] TARGET = { 't' };

	private static final byte[] FRAME = { 'f' };

	private static final byte[] EPOCH = { 'e' };

	private static final byte[] OWN_ID = { 'o' };

	private static final String START = "0-0";

	private final RedisConnectionFactory connectionFactory;

	private final LogKeys keys;

	private final EventLog.Reader reader;

	private final Supplier<byte[]> newEpoch;

	private final Outages outages;

	private final Duration pollTimeout;

	private final Thread thread;

	private volatile boolean running = true;

	// Confined to the tailing thread (or the starting one, before it starts)

	private @Nullable String epoch;

	private String lastId = START;

	/** This tailer's own connection: its blocking reads use a dedicated connection of the client, never the shared one. */
	private @Nullable RedisConnection connection;

	StreamTailer(RedisConnectionFactory connectionFactory, LogKeys keys, EventLog.Reader reader,
			Supplier<byte[]> newEpoch, Outages outages, Duration pollTimeout) {
		this.connectionFactory = connectionFactory;
		this.keys = keys;
		this.reader = reader;
		this.newEpoch = newEpoch;
		this.outages = outages;
		this.pollTimeout = pollTimeout;
		this.thread = new Thread(this, "sisk-sse-redis-log");
		this.thread.setDaemon(true);
	}

	/**
	 * Read the epoch and every entry the stream holds, on the calling thread, so that a client resuming on this
	 * instance finds what it missed from the start.
	 * @return whether it could; if not, the tailing thread does it once Redis is reachable
	 */
	boolean catchUp() {
		try {
			RedisConnection connection = connection();
			checkEpoch(connection);
			while (this.running) {
				List<ByteRecord> records = connection.streamCommands()
					.xRead(StreamReadOptions.empty().count(BATCH), StreamOffset.create(this.keys.stream(),
							ReadOffset.from(this.lastId)));
				if (records == null || records.isEmpty()) {
					break;
				}
				deliver(records);
			}
			this.outages.succeeded();
			return true;
		}
		catch (RuntimeException ex) {
			this.outages.failed("read the log at start-up", ex);
			close();
			return false;
		}
	}

	/**
	 * Start tailing on a thread of its own.
	 */
	void start() {
		this.thread.start();
	}

	/**
	 * Stop tailing and wait a little for the thread to end.
	 */
	void stop() {
		this.running = false;
		this.thread.interrupt();
		try {
			this.thread.join(TimeUnit.SECONDS.toMillis(2));
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	@Override
	public void run() {
		long backoff = MIN_BACKOFF_MILLIS;
		try {
			while (this.running) {
				try {
					RedisConnection connection = connection();
					if (this.epoch == null) {
						checkEpoch(connection);
					}
					List<ByteRecord> records = connection.streamCommands()
						.xRead(StreamReadOptions.empty().count(BATCH).block(this.pollTimeout),
								StreamOffset.create(this.keys.stream(), ReadOffset.from(this.lastId)));
					if (records == null || records.isEmpty()) {
						checkEpoch(connection);
					}
					else {
						deliver(records);
					}
					this.outages.succeeded();
					backoff = MIN_BACKOFF_MILLIS;
				}
				catch (RuntimeException ex) {
					if (!this.running) {
						return;
					}
					this.outages.failed("read the log", ex);
					logger.debug("Reading the Redis event log failed; retrying in " + backoff + " ms", ex);
					close();
					pause(backoff);
					backoff = Math.min(backoff * 2, MAX_BACKOFF_MILLIS);
				}
			}
		}
		finally {
			close();
		}
	}

	private RedisConnection connection() {
		RedisConnection current = this.connection;
		if (current == null) {
			current = this.connectionFactory.getConnection();
			this.connection = current;
		}
		if (LettuceConnectivity.isDisconnected(current)) {
			throw new IllegalStateException("Not connected to Redis");
		}
		return current;
	}

	private void close() {
		RedisConnection current = this.connection;
		this.connection = null;
		if (current != null) {
			try {
				current.close();
			}
			catch (RuntimeException ex) {
				logger.debug("Failed to close a Redis connection", ex);
			}
		}
	}

	/**
	 * Read the epoch (starting a new history if Redis lost it), and follow it if it changed.
	 */
	private void checkEpoch(RedisConnection connection) {
		byte[] current = LogScripts.EPOCH.run(connection, ReturnType.VALUE, 3, this.keys.epoch(),
				this.keys.position(), this.keys.stream(), this.newEpoch.get());
		if (current == null) {
			throw new IllegalStateException("No epoch returned");
		}
		follow(new String(current, StandardCharsets.UTF_8));
	}

	private boolean follow(String epoch) {
		if (epoch.equals(this.epoch)) {
			return false;
		}
		if (this.epoch != null) {
			logger.warn("Redis event log: the log's history was lost (Redis flushed or replaced), epoch " + this.epoch
					+ " is now " + epoch + "; clients resuming from before get the reset event");
		}
		this.reader.epoch(epoch);
		this.epoch = epoch;
		this.lastId = START;
		return true;
	}

	private void deliver(List<ByteRecord> records) {
		for (ByteRecord record : records) {
			String id = record.getId().getValue();
			Fields fields = Fields.of(record.getValue());
			if (fields.epoch != null && follow(fields.epoch)) {
				// A new history: read it from its start.
				return;
			}
			if (fields.target != null && fields.frame != null) {
				offer(position(id), new EventLog.Entry(fields.target, fields.ownId, fields.frame));
			}
			this.lastId = id;
		}
	}

	/**
	 * Offer an entry until the reader takes it.
	 */
	private void offer(long position, EventLog.Entry entry) {
		long backoff = 1;
		while (this.running) {
			try {
				this.reader.entry(position, entry);
				return;
			}
			catch (IllegalStateException ex) {
				// The registry is full: it takes the same entry again once its connections caught up.
				pause(backoff);
				backoff = Math.min(backoff * 2, 100);
			}
			catch (RuntimeException ex) {
				logger.warn("Skipped the Redis event log entry at position " + position + " for '" + entry.target()
						+ "': " + ex);
				return;
			}
		}
	}

	private static long position(String id) {
		return Long.parseLong(id, 0, id.indexOf('-'), 10);
	}

	private void pause(long millis) {
		try {
			Thread.sleep(millis);
		}
		catch (InterruptedException ex) {
			// stop() interrupts; the loop checks running
		}
	}

	/**
	 * The fields of one stream entry.
	 */
	private record Fields(@Nullable String target, byte @Nullable [] frame, @Nullable String epoch,
			@Nullable String ownId) {

		static Fields of(Map<byte[], byte[]> value) {
			String target = null;
			byte[] frame = null;
			String epoch = null;
			String ownId = null;
			for (Map.Entry<byte[], byte[]> field : value.entrySet()) {
				byte[] name = field.getKey();
				if (Arrays.equals(name, TARGET)) {
					target = new String(field.getValue(), StandardCharsets.UTF_8);
				}
				else if (Arrays.equals(name, FRAME)) {
					frame = field.getValue();
				}
				else if (Arrays.equals(name, EPOCH)) {
					epoch = new String(field.getValue(), StandardCharsets.UTF_8);
				}
				else if (Arrays.equals(name, OWN_ID)) {
					ownId = new String(field.getValue(), StandardCharsets.UTF_8);
				}
			}
			return new Fields(target, frame, epoch, ownId);
		}

	}

}
