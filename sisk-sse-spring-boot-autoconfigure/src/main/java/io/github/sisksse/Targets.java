package io.github.sisksse;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

import org.jspecify.annotations.Nullable;

/**
 * Writes a {@link Publication.Target} as the text an {@link EventLog.Entry} carries between instances, and reads it
 * back. A target that names this instance's objects (a connection, an application predicate) carries this
 * instance's name and a number standing for the object, which only this instance can turn back into it.
 * <p>
 * <b>Thread safety.</b> Immutable but for two maps: the open connections, by serial (concurrent; from registration
 * until they end, so bounded by the open connections), and the predicates of broadcasts on their way (guarded by
 * its own monitor; removed when read back, and bounded: the oldest are forgotten past {@value #MAX_PREDICATES},
 * for entries a log lost).
 */
final class Targets {

	private static final int MAX_PREDICATES = 10_000;

	private final String instance = Long.toString(ThreadLocalRandom.current().nextLong() >>> 1, 36);

	private final ConcurrentHashMap<Long, DefaultEventSource> connections = new ConcurrentHashMap<>();

	private final AtomicLong tokens = new AtomicLong();

	private final Map<Long, Predicate<String>> predicates = new LinkedHashMap<>() {

		@Override
		protected boolean removeEldestEntry(Map.Entry<Long, Predicate<String>> eldest) {
			return size() > MAX_PREDICATES;
		}

	};

	/**
	 * A connection opened: entries may name it from now on.
	 */
	void opened(DefaultEventSource source) {
		this.connections.put(source.serial(), source);
	}

	/**
	 * A connection ended: entries that name it reach nothing any more.
	 */
	void ended(DefaultEventSource source) {
		this.connections.remove(source.serial());
	}

	String all() {
		return "*";
	}

	String stream(String identifier) {
		return "s:" + identifier;
	}

	String prefix(String prefix) {
		return "p:" + prefix;
	}

	String connection(DefaultEventSource source) {
		String identifier = source.identifier();
		return "c:" + this.instance + ":" + source.serial() + ":" + ((identifier != null) ? identifier : "");
	}

	String closing(DefaultEventSource source) {
		return "x:" + this.instance + ":" + source.serial();
	}

	/**
	 * Name a predicate until its entry is read back.
	 */
	String matching(Predicate<String> identifierMatcher) {
		long token = this.tokens.incrementAndGet();
		synchronized (this.predicates) {
			this.predicates.put(token, identifierMatcher);
		}
		return "m:" + this.instance + ":" + token;
	}

	/**
	 * The entry with this target was taken into this instance's copy of the log: a predicate it names is held by
	 * the entry from now on.
	 */
	void taken(String target) {
		notAppended(target);
	}

	/**
	 * The entry naming a predicate was not appended: forget the predicate.
	 */
	void notAppended(String target) {
		if (target.startsWith("m:" + this.instance + ":")) {
			synchronized (this.predicates) {
				this.predicates.remove(Long.parseLong(target.substring(target.lastIndexOf(':') + 1)));
			}
		}
	}

	/**
	 * Read a target back.
	 * @throws IllegalArgumentException if it is not one this class writes
	 */
	Publication.Target read(String target) {
		if (target.equals("*")) {
			return new Publication.All();
		}
		if (target.length() < 2 || target.charAt(1) != ':') {
			throw new IllegalArgumentException("Unknown event log target '" + target + "'");
		}
		String rest = target.substring(2);
		switch (target.charAt(0)) {
			case 's':
				return new Publication.Stream(rest);
			case 'p':
				return new Publication.Prefix(rest);
			case 'c': {
				String[] parts = rest.split(":", 3);
				return new Publication.Connection(local(parts[0], parts[1]), parts[2]);
			}
			case 'x': {
				String[] parts = rest.split(":", 2);
				return new Publication.Closing(local(parts[0], parts[1]));
			}
			case 'm': {
				String[] parts = rest.split(":", 2);
				Predicate<String> predicate = null;
				if (parts[0].equals(this.instance)) {
					synchronized (this.predicates) {
						predicate = this.predicates.get(Long.parseLong(parts[1]));
					}
				}
				return (predicate != null) ? new Publication.Matching(predicate) : new Publication.Elsewhere();
			}
			default:
				throw new IllegalArgumentException("Unknown event log target '" + target + "'");
		}
	}

	/**
	 * Return the serial of a connection of this instance, or 0 for another instance's.
	 */
	private long local(String instance, String serial) {
		return instance.equals(this.instance) ? Long.parseLong(serial) : 0;
	}

	/**
	 * Return this instance's open connection with the given serial, if any.
	 */
	@Nullable DefaultEventSource connection(long serial) {
		return (serial != 0) ? this.connections.get(serial) : null;
	}

}
