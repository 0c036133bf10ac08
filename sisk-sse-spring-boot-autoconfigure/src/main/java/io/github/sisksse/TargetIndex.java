package io.github.sisksse;

import java.util.HashMap;
import java.util.Map;

import org.jspecify.annotations.Nullable;

/**
 * Which entries of the {@link PublicationLog} may concern a stream: the sequence numbers of the entries meant for
 * one identifier ({@link Publication.Stream}, {@link Publication.Connection}), per identifier, and those of the
 * entries meant for groups ({@link Publication.All}, {@link Publication.Prefix}, {@link Publication.Matching}).
 * A client that resumes is owed only entries of these two lists, so that finding what it missed costs what it is
 * owed and the group entries since its position, not every entry the log holds: a storm of 10,000 clients
 * resuming from a log of 200,000 per-stream entries would otherwise make the dispatcher walk two billion of them.
 * Entries meant for no stream ({@link Publication.Closing}, {@link Publication.Elsewhere}) are not indexed.
 * <p>
 * Entries are added newest last and removed oldest first, as the log takes and forgets them, so each list stays
 * sorted and bounded by the log's own bounds; a list that empties is dropped.
 * <p>
 * <b>Thread safety.</b> Not thread-safe: confined to its log's monitor.
 */
final class TargetIndex {

	private final Map<String, Seqs> byIdentifier = new HashMap<>();

	private final Seqs groups = new Seqs(64);

	/**
	 * The log took this entry, newer than every entry indexed.
	 */
	void added(Publication entry) {
		Seqs seqs = seqsOf(entry.target(), true);
		if (seqs != null) {
			seqs.add(entry.seq());
		}
	}

	/**
	 * The log forgot this entry, older than every entry indexed.
	 */
	void removed(Publication entry) {
		Seqs seqs = seqsOf(entry.target(), false);
		if (seqs != null) {
			seqs.removeFirst(entry.seq());
			if (seqs.size == 0 && seqs != this.groups) {
				this.byIdentifier.remove(identifierOf(entry.target()));
			}
		}
	}

	/**
	 * Return the sequence numbers, ascending, of the entries from {@code from} to {@code to} (inclusive) that may
	 * concern the streams of this identifier: the caller decides with {@link Publication.Target#replaysTo}.
	 */
	long[] candidates(String identifier, long from, long to) {
		Seqs own = this.byIdentifier.get(identifier);
		long[] mine = (own != null) ? own.between(from, to) : new long[0];
		long[] shared = this.groups.between(from, to);
		long[] merged = new long[mine.length + shared.length];
		int i = 0;
		int j = 0;
		for (int k = 0; k < merged.length; k++) {
			merged[k] = (j >= shared.length || (i < mine.length && mine[i] < shared[j])) ? mine[i++] : shared[j++];
		}
		return merged;
	}

	/**
	 * How many identifiers have entries indexed (for tests of the bounds).
	 */
	int identifiers() {
		return this.byIdentifier.size();
	}

	private @Nullable Seqs seqsOf(Publication.Target target, boolean create) {
		if (target instanceof Publication.All || target instanceof Publication.Prefix
				|| target instanceof Publication.Matching) {
			return this.groups;
		}
		String identifier = identifierOf(target);
		if (identifier == null) {
			return null;
		}
		return create ? this.byIdentifier.computeIfAbsent(identifier, (key) -> new Seqs(2))
				: this.byIdentifier.get(identifier);
	}

	private static @Nullable String identifierOf(Publication.Target target) {
		if (target instanceof Publication.Stream stream) {
			return stream.identifier();
		}
		if (target instanceof Publication.Connection connection && !connection.identifier().isEmpty()) {
			return connection.identifier();
		}
		return null;
	}

	/**
	 * Ascending sequence numbers in a ring that grows as needed.
	 */
	private static final class Seqs {

		private long[] ring;

		private int head;

		private int size;

		Seqs(int capacity) {
			this.ring = new long[capacity];
		}

		void add(long seq) {
			if (this.size == this.ring.length) {
				long[] larger = new long[this.ring.length * 2];
				for (int i = 0; i < this.size; i++) {
					larger[i] = get(i);
				}
				this.ring = larger;
				this.head = 0;
			}
			this.ring[(this.head + this.size) % this.ring.length] = seq;
			this.size++;
		}

		void removeFirst(long seq) {
			if (this.size == 0 || this.ring[this.head] != seq) {
				throw new IllegalStateException("Index out of step with the log at " + seq);
			}
			this.head = (this.head + 1) % this.ring.length;
			this.size--;
			if (this.size == 0) {
				this.head = 0;
			}
		}

		long[] between(long from, long to) {
			int start = firstAtLeast(from);
			int end = firstAtLeast(to + 1);
			long[] seqs = new long[Math.max(0, end - start)];
			for (int i = start; i < end; i++) {
				seqs[i - start] = get(i);
			}
			return seqs;
		}

		private int firstAtLeast(long seq) {
			int low = 0;
			int high = this.size;
			while (low < high) {
				int middle = (low + high) >>> 1;
				if (get(middle) < seq) {
					low = middle + 1;
				}
				else {
					high = middle;
				}
			}
			return low;
		}

		private long get(int i) {
			return this.ring[(this.head + i) % this.ring.length];
		}

	}

}
