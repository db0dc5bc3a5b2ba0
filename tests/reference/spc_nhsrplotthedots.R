suppressMessages({library(dplyr); library(rlang)})
source("ptd_spc_standard.R"); source("ptd_calculate_point_type.R")
set.seed(2026)
cases <- list()
add <- function(y, dir) cases[[length(cases)+1]] <<- list(y=y, dir=dir)
# Hand-made series where each rule fires, and where rules overlap
add(c(10,11,10,11,10,11,10,11,10,11,10,50), 1)
add(c(5,5.2,4.9,5.1,5,4.8,5.1,5.3,5.6,5.9,6.2,6.4,6.8,7.1,5,5.1), 1)
add(c(50,51,49,50,52,48,50,51,49,50,53,57.5,50,57,49,50), -1)
add(c(20,21,19,20,22,18,20,24,24.5,25,24.2,24.8,25.1,24.6,20,21), 1)
add(c(1,2,3,4,5,6,7,8,9,10,11,12,30), -1)
add(c(3,3,3,3,3,3,3,3,3,3,3,3), 1)
for (i in 1:120) {
  n <- sample(12:28, 1)
  base <- rnorm(1, 50, 15)
  y <- base + cumsum(rnorm(n, 0, runif(1, 0.2, 3))) * sample(c(0,1), 1) + rnorm(n, 0, runif(1, 0.5, 4))
  if (runif(1) < 0.3) { k <- sample(2:n, 1); y[k:n] <- y[k:n] + runif(1, 3, 12) }
  if (runif(1) < 0.2) { k <- sample(1:n, 1); y[k] <- y[k] + sample(c(-1,1),1) * runif(1, 10, 30) }
  y <- round(y, 2)
  add(y, sample(c(1,-1), 1))
}
out <- list()
for (ci in seq_along(cases)) {
  y <- cases[[ci]]$y; dir <- cases[[ci]]$dir
  d <- data.frame(y = y, x = seq_along(y), rebase = 0)
  opts <- list(value_field = "y", date_field = "x", facet_field = NULL, fix_after_n_points = NULL, screen_outliers = TRUE, trajectory = NULL)
  s <- ptd_spc_standard(d, opts)
  p <- ptd_calculate_point_type(s, dir)
  out[[ci]] <- data.frame(case = ci, direction = dir, x = p$x, y = p$y, mean = p$mean_col, lpl = p$lpl, upl = p$upl,
                          special_cause_type = p$special_cause_type, point_type = p$point_type)
}
res <- do.call(rbind, out)
write.csv(res, "spc_reference.csv", row.names = FALSE)
cat(nrow(res), "rows,", length(cases), "series\n")
print(table(res$special_cause_type))
