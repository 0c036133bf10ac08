/**
 * Spring MVC binding: lets controller methods return an {@link io.github.sisksse.EventSource} and carries it over
 * the Servlet response with non-blocking writes, on any Servlet container.
 */
@NullMarked
package io.github.sisksse.mvc;

import org.jspecify.annotations.NullMarked;
