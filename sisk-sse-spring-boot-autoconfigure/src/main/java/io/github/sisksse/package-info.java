/**
 * Server-Sent Events connection management for Spring MVC, after the Sisk web framework.
 * <p>
 * Inject {@link io.github.sisksse.EventSourceRegistry}, {@linkplain io.github.sisksse.EventSourceRegistry#open(String)
 * open} an {@link io.github.sisksse.EventSource} in a controller and return it; find it again later by its
 * identifier to send to it.
 */
@NullMarked
package io.github.sisksse;

import org.jspecify.annotations.NullMarked;
