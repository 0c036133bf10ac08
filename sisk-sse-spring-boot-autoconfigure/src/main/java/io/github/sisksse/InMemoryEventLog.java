package io.github.sisksse;

import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;

import org.jspecify.annotations.Nullable;

import org.springframework.util.Assert;

/**
 * The {@link EventLog} of a registry on its own: entries go straight to its reader, on the appending thread, in the
 * order they were appended. It holds nothing itself (the registry's copy of the log does); its epoch is drawn when
 * it starts, so that positions from before a restart are recognised as lost.
 * <p>
 * <b>Thread safety.</b> Appends are serialised by its monitor, which gives each its position and hands it to the
 * reader while held; the reader takes an entry in O(1).
 */
final class InMemoryEventLog implements EventLog {

	private @Nullable Reader reader;

	private long last;

	@Override
	public synchronized void start(Reader reader, Supplier<Map<String, Integer>> presence) {
		Assert.state(this.reader == null, "Already started");
		this.reader = reader;
		reader.epoch(Long.toString(ThreadLocalRandom.current().nextLong(36L * 36 * 36 * 36 * 36, 36L * 36 * 36 * 36 * 36 * 36), 36));
	}

	@Override
	public synchronized void append(Entry entry) {
		Assert.state(this.reader != null, "Not started");
		this.reader.entry(this.last + 1, entry);
		this.last++;
	}

	@Override
	public synchronized void stop() {
		this.reader = null;
	}

}
