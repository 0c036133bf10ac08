package io.github.sisksse;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * The live sources: identifier to the sources opened with it, plus the anonymous ones (kept only to reach them in
 * a broadcast and to close them at shutdown).
 * <p>
 * <b>Thread safety.</b> Each identifier's entry is an immutable list replaced atomically with
 * {@link ConcurrentHashMap#compute}, so registration, replacement and removal of the sources of one identifier
 * never interleave, and readers never lock. The functions passed to {@code compute} only update this index's
 * counters: ending a replaced source is left to the caller, outside the map's locks.
 */
final class SourceIndex {

	private final DuplicateIdentifierPolicy policy;

	private final ConcurrentHashMap<String, List<DefaultEventSource>> identified = new ConcurrentHashMap<>();

	private final Set<DefaultEventSource> anonymous = ConcurrentHashMap.newKeySet();

	private final AtomicInteger identifiedCount = new AtomicInteger();

	SourceIndex(DuplicateIdentifierPolicy policy) {
		this.policy = policy;
	}

	void addAnonymous(DefaultEventSource source) {
		this.anonymous.add(source);
	}

	/**
	 * Register an identified source, applying the duplicate-identifier policy.
	 * @param identifier the identifier
	 * @param source the new source
	 * @param takeOver whether the source has no place of its own and may only replace a live source (whose place
	 * it then takes); if there is none, it is not registered
	 * @return what happened
	 */
	Registration register(String identifier, DefaultEventSource source, boolean takeOver) {
		List<DefaultEventSource> replaced = new ArrayList<>(1);
		boolean[] refused = new boolean[1];
		this.identified.compute(identifier, (key, existing) -> {
			if (existing == null) {
				if (takeOver) {
					refused[0] = true;
					return null;
				}
				this.identifiedCount.incrementAndGet();
				return List.of(source);
			}
			return switch (this.policy) {
				case REPLACE -> {
					replaced.addAll(existing);
					this.identifiedCount.addAndGet(1 - existing.size());
					yield List.of(source);
				}
				case REJECT -> {
					refused[0] = true;
					yield existing;
				}
				case ALLOW -> {
					if (takeOver) {
						refused[0] = true;
						yield existing;
					}
					this.identifiedCount.incrementAndGet();
					List<DefaultEventSource> all = new ArrayList<>(existing.size() + 1);
					all.addAll(existing);
					all.add(source);
					yield List.copyOf(all);
				}
			};
		});
		return new Registration(replaced, refused[0]);
	}

	/**
	 * Forget an ended source. Idempotent; never removes a newer source with the same identifier.
	 * @return whether it was in the index
	 */
	boolean remove(DefaultEventSource source) {
		String identifier = source.identifier();
		if (identifier == null) {
			return this.anonymous.remove(source);
		}
		boolean[] removed = { false };
		this.identified.computeIfPresent(identifier, (key, sources) -> {
			if (!sources.contains(source)) {
				return sources;
			}
			this.identifiedCount.decrementAndGet();
			removed[0] = true;
			if (sources.size() == 1) {
				return null;
			}
			List<DefaultEventSource> rest = new ArrayList<>(sources);
			rest.remove(source);
			return List.copyOf(rest);
		});
		return removed[0];
	}

	List<DefaultEventSource> sources(String identifier) {
		return this.identified.getOrDefault(identifier, List.of());
	}

	/**
	 * Return the newest open source of the identifier: one the application closed is passed by at once, though it
	 * stays in the index until what was sent before is delivered.
	 */
	Optional<EventSource> get(String identifier) {
		List<DefaultEventSource> sources = this.identified.getOrDefault(identifier, List.of());
		for (int i = sources.size() - 1; i >= 0; i--) {
			if (sources.get(i).isOpen()) {
				return Optional.of(sources.get(i));
			}
		}
		return Optional.empty();
	}

	/**
	 * Return the open sources whose identifier matches.
	 */
	List<EventSource> find(Predicate<String> identifierMatcher) {
		List<EventSource> result = new ArrayList<>();
		this.identified.forEach((identifier, sources) -> {
			if (identifierMatcher.test(identifier)) {
				for (DefaultEventSource source : sources) {
					if (source.isOpen()) {
						result.add(source);
					}
				}
			}
		});
		return result;
	}

	/**
	 * Visit every source, identified ones whose identifier matches and, if asked, the anonymous ones.
	 */
	void forEach(Predicate<String> identifierMatcher, boolean anonymousToo, Consumer<DefaultEventSource> action) {
		if (anonymousToo) {
			this.anonymous.forEach(action);
		}
		this.identified.forEach((identifier, sources) -> {
			if (identifierMatcher.test(identifier)) {
				sources.forEach(action);
			}
		});
	}

	/**
	 * Return the number of sources, anonymous ones included.
	 */
	int count() {
		return this.anonymous.size() + this.identifiedCount.get();
	}

	/**
	 * Return the number of identified sources whose identifier matches; visits every identifier.
	 */
	int count(Predicate<String> identifierMatcher) {
		int[] count = { 0 };
		this.identified.forEach((identifier, sources) -> {
			if (identifierMatcher.test(identifier)) {
				count[0] += sources.size();
			}
		});
		return count[0];
	}

	/**
	 * Return a snapshot of the identified sources: identifier to count.
	 */
	Map<String, Integer> presence() {
		Map<String, Integer> presence = new HashMap<>();
		this.identified.forEach((identifier, sources) -> presence.put(identifier, sources.size()));
		return presence;
	}

	int identifiedCount() {
		return this.identifiedCount.get();
	}

	/**
	 * What {@link #register} did.
	 *
	 * @param replaced the sources the new one replaced, now out of the index, to be ended by the caller
	 * @param refused whether the new source was not registered
	 */
	record Registration(List<DefaultEventSource> replaced, boolean refused) {
	}

}
