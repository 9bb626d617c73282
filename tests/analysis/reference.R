# Golden figures from R's survey package (Debian r-cran-survey), for tests/analysis.
# Usage: Rscript tests/analysis/reference.R R-SURVEY-DATA-DIR SYNTHETIC-DIR > golden.csv
# Rows: key,value (15 significant digits). Keys: block|statistic|variable|domain|quantity.
suppressMessages(library(survey))
args <- commandArgs(trailingOnly = TRUE)
api_dir <- args[1]
syn_dir <- args[2]

out <- function(key, value) cat(sprintf("%s,%.15g\n", key, as.numeric(value)))
cat("key,value\n")

est_se <- function(prefix, x) {
  out(paste0(prefix, "|est"), coef(x)[1])
  out(paste0(prefix, "|se"), SE(x)[1])
}
kg <- function(prefix, formula, design) {
  p <- svyciprop(formula, design, method = "beta")
  out(paste0(prefix, "|est"), p)
  ci <- attr(p, "ci")
  out(paste0(prefix, "|low"), ci[1])
  out(paste0(prefix, "|high"), ci[2])
  out(paste0(prefix, "|df"), degf(design))
}
chisq <- function(prefix, formula, design) {
  t <- svychisq(formula, design)
  out(paste0(prefix, "|F"), t$statistic)
  out(paste0(prefix, "|ndf"), t$parameter[1])
  out(paste0(prefix, "|ddf"), t$parameter[2])
  out(paste0(prefix, "|p"), t$p.value)
}

# --- the api data (R's own example) ---------------------------------------------------
apistrat <- read.csv(file.path(api_dir, "apistrat.csv"))
apisrs <- read.csv(file.path(api_dir, "apisrs.csv"))
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)
dsrs <- svydesign(id = ~1, fpc = ~fpc, data = apisrs)

kg("api|kg|awards=Yes|all", ~I(awards == "Yes"), dstrat)
kg("api|kg|awards=Yes|srs", ~I(awards == "Yes"), dsrs)
for (s in c("E", "H", "M")) {
  sub <- subset(dstrat, stype == s)
  kg(paste0("api|kg|awards=Yes|stype=", s), ~I(awards == "Yes"), sub)
  for (a in c("No", "Yes")) {
    est_se(paste0("api|total|awards=", a, "|stype=", s),
           svytotal(as.formula(paste0("~as.numeric(awards == '", a, "')")), sub))
    est_se(paste0("api|mean|awards=", a, "|stype=", s),
           svymean(as.formula(paste0("~as.numeric(awards == '", a, "')")), sub))
  }
}
chisq("api|chisq|stype:awards|all", ~stype + awards, dstrat)
chisq("api|chisq|sch.wide:comp.imp|all", ~sch.wide + comp.imp, dstrat)

pop.types <- data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018))
pop.schwide <- data.frame(sch.wide = c("No", "Yes"), Freq = c(1072, 5122))
raked <- calibrate(dstrat, list(~stype, ~sch.wide), list(pop.types, pop.schwide),
                   calfun = "raking", epsilon = 1e-12)
est_se("api|rake.mean|api00|all", svymean(~api00, raked))
est_se("api|rake.total|enroll|all", svytotal(~enroll, raked))
for (a in c("No", "Yes")) {
  est_se(paste0("api|rake.mean|api00|awards=", a), svymean(~api00, subset(raked, awards == a)))
}

# --- the synthetic five-cohort study ------------------------------------------------------
syn <- read.csv(file.path(syn_dir, "synthetic.csv"))
for (v in c("sex", "age_band", "k6", "ideation_ever", "eligible_children")) {
  syn[[v]][syn[[v]] < 0] <- NA  # the project's missing codes
}
d <- svydesign(id = ~1, strata = ~cohort, weights = ~weight, fpc = ~N, data = syn)
cohorts <- sort(unique(syn$cohort))

est_se("syn|mean|k6|all", svymean(~k6, d, na.rm = TRUE))
est_se("syn|total|k6|all", svytotal(~k6, d, na.rm = TRUE))
known <- subset(d, !is.na(ideation_ever))
kg("syn|kg|ideation_ever=1|all", ~I(ideation_ever == 1), known)
for (h in cohorts) {
  sub <- subset(known, cohort == h)
  kg(paste0("syn|kg|ideation_ever=1|cohort=", h), ~I(ideation_ever == 1), sub)
  for (k in c(1, 2)) {
    est_se(paste0("syn|mean|ideation_ever=", k, "|cohort=", h),
           svymean(as.formula(paste0("~as.numeric(ideation_ever == ", k, ")")), subset(d, cohort == h),
                   na.rm = TRUE))
    est_se(paste0("syn|total|ideation_ever=", k, "|cohort=", h),
           svytotal(as.formula(paste0("~as.numeric(ideation_ever == ", k, ")")), subset(d, cohort == h),
                    na.rm = TRUE))
  }
  for (s in 1:4) {
    sub <- subset(d, cohort == h & sex == s & !is.na(k6))
    est_se(paste0("syn|mean|k6|cohort=", h, ";sex=", s), svymean(~k6, sub))
    out(paste0("syn|mean|k6|cohort=", h, ";sex=", s, "|df"), degf(sub))
  }
}
for (s in 1:4) {
  sub <- subset(d, sex == s & !is.na(k6))
  est_se(paste0("syn|mean|k6|sex=", s), svymean(~k6, sub))
  out(paste0("syn|mean|k6|sex=", s, "|df"), degf(sub))
}
chisq("syn|chisq|sex:ideation_ever|all", ~sex + ideation_ever, d)

# Raking of the general cohort: respondents of sex 1-2 with an age band, to the register's
# margins scaled to their weighted total; everyone else keeps the weight (zero rows of X).
sex_t <- read.csv(file.path(syn_dir, "sex_targets.csv"))
age_t <- read.csv(file.path(syn_dir, "age_targets.csv"))
m <- with(syn, cohort == "general" & !is.na(sex) & sex %in% 1:2 & !is.na(age_band))
scale <- sum(syn$weight[m]) / sum(sex_t$Freq)
bands <- c("18-19", "20-29", "30-39", "40-49", "50-59", "60-69", "70-79", "80+")
d$variables$s1 <- as.numeric(m & syn$sex == 1)
d$variables$s2 <- as.numeric(m & syn$sex == 2)
population <- c(s1 = sex_t$Freq[sex_t$sex == "男"], s2 = sex_t$Freq[sex_t$sex == "女"])
for (k in 2:8) {
  name <- paste0("a", k)
  d$variables[[name]] <- as.numeric(m & syn$age_band == k)
  population[name] <- age_t$Freq[age_t$age == bands[k]]
}
population <- population * scale
raked <- calibrate(d, ~0 + s1 + s2 + a2 + a3 + a4 + a5 + a6 + a7 + a8, population,
                   calfun = "raking", epsilon = 1e-12)
est_se("syn|rake.mean|k6|all", svymean(~k6, raked, na.rm = TRUE))
for (h in cohorts) {
  est_se(paste0("syn|rake.mean|k6|cohort=", h), svymean(~k6, subset(raked, cohort == h),
                                                          na.rm = TRUE))
}
est_se("syn|rake.total|ideation_ever=1|all", svytotal(~as.numeric(ideation_ever == 1), raked, na.rm = TRUE))
